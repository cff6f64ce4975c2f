import Foundation
import SequentTensor
import XCTest

/// Applies a 16-lane function to every value, 16 at a time.
private func apply(_ f: (FloatVector) -> FloatVector, to values: [Float]) -> [Float] {
    var out: [Float] = []
    for start in stride(from: 0, to: values.count, by: 16) {
        var v = FloatVector()
        let end = min(start + 16, values.count)
        for i in start..<end { v[i - start] = values[i] }
        let r = f(v)
        for i in start..<end { out.append(r[i - start]) }
    }
    return out
}

/// The largest relative error of `f` against a Double reference over `values`; results whose
/// reference magnitude is below `floor` are compared absolutely against `floor`.
private func worstRelativeError(
    _ f: (FloatVector) -> FloatVector, _ reference: (Double) -> Double, over values: [Float], floor: Double = 0
) -> (error: Double, at: Float) {
    let results = apply(f, to: values)
    var worst: (Double, Float) = (0, 0)
    for (x, y) in zip(values, results) {
        let expected = reference(Double(x))
        let error = Swift.abs(Double(y) - expected) / Swift.max(Swift.abs(expected), floor)
        if error > worst.0 { worst = (error, x) }
    }
    return worst
}

/// Values from `lower` to `upper` in steps of `step`.
private func grid(_ lower: Float, _ upper: Float, step: Float) -> [Float] {
    Array(stride(from: lower, through: upper, by: step))
}

/// Tests of `Kernels/VectorMath.swift` against Foundation in Double.
///
/// Stated bounds, relative to the exact value (Float.ulpOfOne = 1.19e-7): exp below 2.4e-7
/// (2 ulp) on [-87.3, 88.72], measured 8.0e-8; tanh below 3e-7 on [-20, 20], measured
/// 1.4e-7; sigmoid below 3e-7 on [-80, 80], measured 1.2e-7.
final class VectorMathTests: XCTestCase {
    func testExpRelativeErrorOverDenseRange() {
        let values = grid(-87.3, 88.72, step: 0.0137) + grid(-1, 1, step: 0.00093)
        let (error, at) = worstRelativeError(VectorMath.exp, Foundation.exp, over: values)
        XCTAssertLessThan(error, 2.4e-7, "worst at x = \(at)")
    }

    func testExpNearTheTopOfTheFloatRangeIsFinite() {
        // Regression: for x in [88.38, 88.72] the exponent n reached 128 and 2^n was built
        // as +inf in the exponent bits, though e^x is still below Float.greatestFiniteMagnitude.
        let values: [Float] = [88.0, 88.3, 88.38, 88.5, 88.6, 88.7, 88.72]
        let results = apply(VectorMath.exp, to: values)
        for (x, y) in zip(values, results) {
            XCTAssertTrue(y.isFinite, "exp(\(x)) = \(y)")
            XCTAssertEqual(Double(y), Foundation.exp(Double(x)), accuracy: Foundation.exp(Double(x)) * 2.4e-7, "exp(\(x))")
        }
    }

    func testExpExtremes() {
        let values: [Float] = [-.infinity, -1000, -100, -88, -87.3, 0, -0.0, 1e-30, -1e-30, 88, 89, 100, .infinity, .nan]
        let y = apply(VectorMath.exp, to: values)
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[1], 0)
        XCTAssertEqual(y[2], 0)
        // e^-88 = 6.1e-39 is subnormal: flushed to zero, within Float.leastNormalMagnitude.
        XCTAssertLessThanOrEqual(Double(y[3]), Double(Float.leastNormalMagnitude))
        let justAbove = Foundation.exp(Double(Float(-87.3)))  // the Float nearest -87.3, not the Double
        XCTAssertEqual(Double(y[4]), justAbove, accuracy: justAbove * 3e-7)
        XCTAssertEqual(y[5], 1)
        XCTAssertEqual(y[6], 1)
        XCTAssertEqual(y[7], 1)
        XCTAssertEqual(y[8], 1)
        XCTAssertEqual(Double(y[9]), Foundation.exp(88), accuracy: Foundation.exp(88) * 3e-7)
        XCTAssertEqual(y[10], .infinity)
        XCTAssertEqual(y[11], .infinity)
        XCTAssertEqual(y[12], .infinity)
        XCTAssertTrue(y[13].isNaN)
    }

    func testTanhRelativeErrorOverDenseRange() {
        let values = grid(-20, 20, step: 0.0071) + grid(-0.7, 0.7, step: 0.00031) + [1e-30, -1e-30, 1e-6, 0.625, -0.625, 0.6249999]
        let (error, at) = worstRelativeError(VectorMath.tanh, Foundation.tanh, over: values, floor: 1e-38)
        XCTAssertLessThan(error, 3e-7, "worst at x = \(at)")
    }

    func testTanhExtremes() {
        let y = apply(VectorMath.tanh, to: [-.infinity, -100, -88, 0, -0.0, 88, 100, .infinity, .nan])
        XCTAssertEqual(Array(y[0..<8]), [-1, -1, -1, 0, 0, 1, 1, 1])
        XCTAssertTrue(y[8].isNaN)
    }

    func testSigmoidRelativeErrorOverDenseRange() {
        let values = grid(-80, 80, step: 0.0113)
        let (error, at) = worstRelativeError(VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, over: values)
        XCTAssertLessThan(error, 3e-7, "worst at x = \(at)")
    }

    func testSigmoidExtremes() {
        let y = apply(VectorMath.sigmoid, to: [-.infinity, -100, -88, 0, 1e-30, 88, 100, .infinity, .nan])
        XCTAssertEqual(y[0], 0)
        XCTAssertLessThan(y[1], 1e-37)
        XCTAssertLessThan(y[2], 1e-37)
        XCTAssertEqual(y[3], 0.5)
        XCTAssertEqual(y[4], 0.5)
        XCTAssertEqual(Array(y[5..<8]), [1, 1, 1])
        XCTAssertTrue(y[8].isNaN)
        XCTAssertTrue(y.dropLast().allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Phi(x) keeps its relative precision in the lower tail, where GELU's values live: the
    /// error stays within the approximation's 1.2e-7, 3e-7 for evaluating it in Float (exp's
    /// 2 ulp and the polynomial), and what Float rounding of z = x / sqrt 2, of z^2 and of
    /// the exponent costs a function falling like e^(-z^2) (relative 4 z^2 times 6e-8).
    func testNormalCDFRelativeErrorOverDenseRange() {
        var worst = 0.0
        var worstAt: Float = 0
        var x: Float = -12
        while x < 8 {
            let lanes = FloatVector((0..<16).map { x + Float($0) * 0.0625 })
            let phi = VectorMath.normalCDF(lanes)
            for lane in 0..<16 {
                let exact = 0.5 * Foundation.erfc(-Double(lanes[lane]) / 2.0.squareRoot())
                let z = Double(lanes[lane]) / 2.0.squareRoot()
                let allowed = 1.2e-7 + 3e-7 + (lanes[lane] < 0 ? 4 * z * z * 6e-8 : 0)
                let share = abs(Double(phi[lane]) - exact) / exact / allowed
                if share > worst { worst = share; worstAt = lanes[lane] }
            }
            x += 1
        }
        XCTAssertLessThan(worst, 1, "largest relative error of Phi, as a share of the allowance, at x = \(worstAt)")
    }
}
