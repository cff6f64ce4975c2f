import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

final class GradientClippingTests: XCTestCase {
    /// Three parameters with the fixture's gradients (shapes (3, 4), (4), (2, 2, 2)).
    private func parametersWithFixtureGradients() throws -> (parameters: [Parameter], fixture: [String: Tensor]) {
        let fixture = try Fixtures.load("gradient_clipping")
        let parameters = try (0..<3).map { index -> Parameter in
            let gradient = try XCTUnwrap(fixture["grad.\(index)"])
            let parameter = Parameter(Tensor.zeros(gradient.shape))
            parameter.grad = gradient
            return parameter
        }
        return (parameters, fixture)
    }

    func testClipGradientNormMatchesPyTorch() throws {
        for (label, maxNorm) in [("norm_1", Float(1)), ("norm_100", Float(100))] {
            let (parameters, fixture) = try parametersWithFixtureGradients()
            let norm = try clipGradientNorm(parameters, maxNorm: maxNorm)
            XCTAssertEqual(norm, try XCTUnwrap(fixture["\(label).total_norm"]).item, accuracy: 1e-5 * norm, label)
            for (index, parameter) in parameters.enumerated() {
                assertClose(try XCTUnwrap(parameter.grad), try XCTUnwrap(fixture["\(label).clipped.\(index)"]),
                            relative: 1e-5, absolute: 1e-7, "\(label) gradient \(index)")
            }
        }
    }

    func testClippedNormEqualsMaxNorm() throws {
        let (parameters, _) = try parametersWithFixtureGradients()
        let before = try clipGradientNorm(parameters, maxNorm: 0.5)
        XCTAssertGreaterThan(before, 0.5)
        let after = try clipGradientNorm(parameters, maxNorm: 1000)
        XCTAssertEqual(after, 0.5, accuracy: 1e-5)
    }

    func testClipGradientValueMatchesPyTorch() throws {
        let (parameters, fixture) = try parametersWithFixtureGradients()
        try clipGradientValue(parameters, maxValue: 0.5)
        for (index, parameter) in parameters.enumerated() {
            XCTAssertEqual(try XCTUnwrap(parameter.grad).scalars, try XCTUnwrap(fixture["value_0.5.clipped.\(index)"]).scalars)
        }
    }

    func testNonFiniteNormThrowsAndLeavesGradientsUnchanged() throws {
        let (a, b) = (Parameter(Tensor([1, 2])), Parameter(Tensor([3])))
        a.grad = Tensor([3, 4])
        b.grad = Tensor([.nan])
        XCTAssertThrowsError(try clipGradientNorm([a, b], maxNorm: 1)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .invalidValue)
            XCTAssertTrue("\(error)".contains("parameter #1"), "\(error)")
        }
        XCTAssertEqual(a.grad?.scalars, [3, 4])
        b.grad = Tensor([.infinity])
        XCTAssertThrowsError(try clipGradientNorm([a, b], maxNorm: 1))
    }

    func testMissingGradientsAreIgnored() throws {
        let (a, b) = (Parameter(Tensor([1, 2])), Parameter(Tensor([3])))
        XCTAssertEqual(try clipGradientNorm([a, b], maxNorm: 1), 0)
        a.grad = Tensor([3, 4])
        XCTAssertEqual(try clipGradientNorm([a, b], maxNorm: 1), 5)
        assertClose(try XCTUnwrap(a.grad), Tensor([0.6, 0.8]), relative: 1e-6)
        XCTAssertNil(b.grad)
    }

    func testRejectsInvalidLimits() {
        let p = [Parameter(Tensor([1]))]
        XCTAssertThrowsError(try clipGradientNorm(p, maxNorm: -1))
        XCTAssertThrowsError(try clipGradientNorm(p, maxNorm: .infinity))
        XCTAssertThrowsError(try clipGradientValue(p, maxValue: -1))
    }
}
