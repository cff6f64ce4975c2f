import SequentTensor
import XCTest

/// The build targets the machine it was built on, so the tests (built here) run here.
final class CPUSupportTests: XCTestCase {
    func testTheBuildMachineRunsItsOwnKernels() {
        XCTAssertNil(CPUSupport.unsupportedReason)
        #if os(Linux) && !DEBUG
        XCTAssertNotNil(CPUSupport.requiredInstructions, "release builds target the build machine's vector unit")
        #endif
    }
}
