import Foundation
import SequentTensor
import XCTest

/// Asserts that two tensors have the same shape and agree elementwise within
/// `absolute + relative * |expected|`.
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, relative: Float = 1e-4, absolute: Float = 1e-5,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message())", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    var worst: (index: Int, excess: Float) = (-1, 0)
    for i in 0..<actual.count {
        let (a, e) = (actual.scalars[i], expected.scalars[i])
        let allowed = absolute + relative * abs(e)
        let excess = abs(a - e) - allowed
        if excess > worst.excess || (a.isNaN != e.isNaN) { worst = (i, a.isNaN != e.isNaN ? .infinity : excess) }
    }
    if worst.index >= 0 {
        XCTFail("not close at flat index \(worst.index): \(actual.scalars[worst.index]) vs expected \(expected.scalars[worst.index]) \(message())",
                file: file, line: line)
    }
}

/// Asserts that two arrays agree elementwise within `absolute + relative * |expected|`.
public func assertClose(
    _ actual: [Float], _ expected: [Float], relative: Float = 1e-4, absolute: Float = 1e-5,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose(Tensor(actual), Tensor(expected), relative: relative, absolute: absolute, message(), file: file, line: line)
}

/// The largest relative difference between two tensors, |a - e| / max(|e|, floor).
public func maxRelativeDifference(_ actual: Tensor, _ expected: Tensor, floor: Float = 1e-3) -> Float {
    precondition(actual.shape == expected.shape, "maxRelativeDifference: shapes \(actual.shape) and \(expected.shape)")
    var worst: Float = 0
    for i in 0..<actual.count {
        worst = max(worst, abs(actual.scalars[i] - expected.scalars[i]) / max(abs(expected.scalars[i]), floor))
    }
    return worst
}

/// Checks the autograd gradient of `function` with respect to each input against central
/// differences.
///
/// The scalar checked is L = sum(function(inputs) * W) for a fixed random W, so every
/// element of the output gradient is exercised; L is accumulated in Double.
///
/// - Parameters:
///   - inputs: the points at which to check; keep them away from kinks (relu at 0, ...).
///   - epsilon: the finite-difference step.
///   - tolerance: allowed |analytic - numeric| / max(1, |numeric|).
public func checkGradient(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2, seed: UInt64 = 7,
    file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor
) {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let output = function(leaves)
    var generator = RandomGenerator(seed: seed)
    let weights = Tensor.randomUniform(output.shape, lower: -1, upper: 1, using: &generator)
    (output * weights).sum().backward()

    func loss(_ point: [Tensor]) -> Double {
        let y = withoutGradients { function(point) }
        return zip(y.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    for (inputIndex, leaf) in leaves.enumerated() {
        let analytic = leaf.grad ?? Tensor.zeros(leaf.shape)
        XCTAssertEqual(analytic.shape, leaf.shape, "gradient shape of input \(inputIndex)", file: file, line: line)
        for element in 0..<leaf.count {
            var plus = inputs.map { $0.detached() }, minus = plus
            plus[inputIndex] = perturbed(inputs[inputIndex], at: element, by: epsilon)
            minus[inputIndex] = perturbed(inputs[inputIndex], at: element, by: -epsilon)
            let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
            let error = abs(Double(analytic.scalars[element]) - numeric) / max(1, abs(numeric))
            if error > Double(tolerance) {
                XCTFail("gradient of input \(inputIndex) at element \(element): autograd \(analytic.scalars[element]), finite difference \(numeric)",
                        file: file, line: line)
                return
            }
        }
    }
}

private func perturbed(_ tensor: Tensor, at index: Int, by delta: Float) -> Tensor {
    var values = tensor.scalars
    values[index] += delta
    return Tensor(shape: tensor.shape, scalars: values)
}

/// A tensor of `shape` with seeded values uniform in [lower, upper).
public func randomTensor(_ shape: [Int], lower: Float = -1, upper: Float = 1, seed: UInt64 = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomUniform(shape, lower: lower, upper: upper, using: &generator)
}

/// Fixtures made by `Tests/Fixtures/make_fixtures.py` with real PyTorch.
public enum Fixtures {
    /// The directory `Tests/Fixtures` of this checkout.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Loads `name.json`: an object mapping names to {"shape": [...], "data": [...]}.
    public static func load(_ name: String) throws -> [String: Tensor] {
        let url = directory.appendingPathComponent("\(name).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let entries = object as? [String: Any] else { throw SequentError(.malformedFile, "\(url.path): not a JSON object") }
        var tensors: [String: Tensor] = [:]
        for (key, value) in entries {
            guard let entry = value as? [String: Any], let shape = entry["shape"] as? [Int],
                  let data = entry["data"] as? [Double] else { continue }
            tensors[key] = Tensor(shape: shape, scalars: data.map(Float.init))
        }
        return tensors
    }
}
