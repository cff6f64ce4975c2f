/// Whether operations record themselves on the autograd tape in the current task.
public enum GradientMode {
    @TaskLocal static var isEnabled = true

    /// Whether operations currently record gradients.
    public static var isRecording: Bool { isEnabled }
}

/// Runs `body` without recording any operation on the autograd tape (inference, optimizer
/// updates, evaluation). Scoped to the current task, like every setting in Sequent.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Whether gradients flow to this tensor. Setting it to true makes the tensor a leaf
    /// whose `grad` collects gradients; setting it to false detaches it.
    public var requiresGrad: Bool {
        get { gradNode != nil }
        set {
            if newValue {
                if gradNode == nil { gradNode = GradNode() }
            } else {
                gradNode = nil
            }
            gradOutput = 0
        }
    }

    /// This tensor marked as a gradient leaf.
    public func requiringGrad() -> Tensor {
        var leaf = self.detached()
        leaf.gradNode = GradNode()
        return leaf
    }

    /// The gradient accumulated in this leaf by `backward()`, or nil.
    public var grad: Tensor? {
        get { gradNode?.grad }
        nonmutating set { gradNode?.grad = newValue }
    }

    /// The same values, cut off from the tape: no gradient flows through the result.
    public func detached() -> Tensor {
        Tensor(shape: shape, scalars: scalars)
    }

    /// Where this tensor came from on the tape, if anywhere.
    var gradEdge: GradNode.Edge? {
        gradNode.map { GradNode.Edge(node: $0, output: gradOutput) }
    }

    /// Records `result` as computed from `inputs` with gradient rule `backward`.
    ///
    /// Every differentiable operation ends with this call. Nothing is recorded when
    /// gradients are off or no input requires them, so inference pays nothing.
    static func recorded(
        _ result: Tensor, operation: String, inputs: [Tensor],
        backward: @escaping (_ outputGradient: Tensor, _ needsGradient: [Bool]) -> [Tensor?]
    ) -> Tensor {
        recorded([result], operation: operation, inputs: inputs) { gradients, needs in
            backward(gradients[0]!, needs)
        }[0]
    }

    /// Records an operation with several results (a recurrent layer's outputs and final
    /// states). The rule receives one gradient per result, nil for results no gradient
    /// reached; at least one is non-nil.
    public static func recorded(
        _ results: [Tensor], operation: String, inputs: [Tensor],
        backward: @escaping (_ outputGradients: [Tensor?], _ needsGradient: [Bool]) -> [Tensor?]
    ) -> [Tensor] {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.gradNode != nil }) else {
            return results
        }
        let node = GradNode(operation: operation, outputCount: results.count, inputs: inputs.map(\.gradEdge), backward: backward)
        return results.enumerated().map { index, result in
            var output = result.detached()
            output.gradNode = node
            output.gradOutput = index
            return output
        }
    }

    /// Back-propagates from this tensor, adding dSelf/dLeaf into every leaf's `grad`.
    ///
    /// The tape is freed as it is walked: a second `backward()` through the same graph
    /// stops with a message, as in PyTorch without `retain_graph`.
    ///
    /// - Parameters:
    ///   - gradient: dLoss/dSelf; may be omitted for a single-element tensor (1).
    ///   - onGradientReady: called once for each leaf that receives a gradient, as soon as
    ///     that gradient is final: right after the last node that feeds the leaf has run,
    ///     while the rest of the tape is still to go (data-parallel training starts
    ///     reducing it then, as PyTorch's DDP does from its gradient hooks). The leaf's
    ///     `grad` holds the sum at that point.
    public func backward(gradient: Tensor? = nil, onGradientReady: ((GradientLeaf) -> Void)? = nil) {
        guard let root = gradNode else {
            preconditionFailure("backward: the tensor does not require gradients (shape \(shape))")
        }
        let seed = gradient ?? {
            precondition(count == 1, "backward: a gradient is needed for a tensor of shape \(shape)")
            return Tensor(shape: shape, scalars: [1])
        }()
        Tensor.require {
            if seed.shape != shape {
                throw SequentError.shapeMismatch("backward", "gradient shape \(seed.shape) does not match tensor shape \(shape)")
            }
        }
        withoutGradients {
            // Nodes come before their inputs, so each node's gradients are complete when reached.
            var pending: [ObjectIdentifier: [Tensor?]] = [:]
            func accumulate(_ gradient: Tensor, into edge: GradNode.Edge) {
                let key = ObjectIdentifier(edge.node)
                var slots = pending[key] ?? [Tensor?](repeating: nil, count: edge.node.outputCount)
                slots[edge.output] = slots[edge.output].map { $0 + gradient } ?? gradient
                pending[key] = slots
            }
            // A leaf is done once the last node feeding it (in this order) has run, which can
            // be long before the leaf's own place in the order.
            func finish(_ leaf: GradNode) {
                guard let gradients = pending.removeValue(forKey: ObjectIdentifier(leaf)) else { return }
                let gradient = gradients[0]!
                leaf.grad = leaf.grad.map { $0 + gradient } ?? gradient
                onGradientReady?(GradientLeaf(leaf))
            }
            accumulate(seed, into: GradNode.Edge(node: root, output: gradOutput))
            let order = root.topologicallySorted()
            var lastFeeder: [ObjectIdentifier: Int] = [:]
            for (index, node) in order.enumerated() {
                for case let input? in node.inputs where input.node.isLeaf { lastFeeder[ObjectIdentifier(input.node)] = index }
            }
            for (index, node) in order.enumerated() {
                if node.isLeaf {
                    finish(node)
                    continue
                }
                let inputs = node.inputs
                if let outputGradients = pending.removeValue(forKey: ObjectIdentifier(node)) {
                    guard let rule = node.backward else {
                        preconditionFailure("backward: the graph through '\(node.operation)' was already back-propagated and freed; compute the forward pass again")
                    }
                    let inputGradients = rule(outputGradients, inputs.map { $0 != nil })
                    node.release()
                    for (input, inputGradient) in zip(inputs, inputGradients) {
                        guard let input, let inputGradient else { continue }
                        accumulate(inputGradient, into: input)
                    }
                }
                for case let input? in inputs where input.node.isLeaf && lastFeeder[ObjectIdentifier(input.node)] == index {
                    finish(input.node)
                }
            }
        }
    }

    /// The leaf this tensor is (a parameter's value, a tensor marked `requiresGrad`), as
    /// `backward(onGradientReady:)` names it; nil for tensors that are not leaves.
    public var gradientLeaf: GradientLeaf? {
        gradNode.flatMap { $0.isLeaf ? GradientLeaf($0) : nil }
    }
}

/// The identity of one gradient leaf, stable across `backward` calls for as long as the
/// leaf lives (a parameter keeps its leaf when its values are assigned).
public struct GradientLeaf: Hashable {
    private let node: ObjectIdentifier

    init(_ node: GradNode) { self.node = ObjectIdentifier(node) }
}
