import SequentTensor
import TestSupport
import XCTest

final class SmokeTests: XCTestCase {
    func testMatmulGradient() {
        checkGradient([randomTensor([2, 3, 4], seed: 1), randomTensor([4, 5], seed: 2)]) { Tensor.matmul($0[0], $0[1]) }
    }
    func testTanhGradient() {
        checkGradient([randomTensor([3, 17], seed: 3)]) { $0[0].tanh() }
    }
}
