/// One entry of the autograd tape: the operation that produced one or more tensors and
/// how to send their gradients back to its inputs.
///
/// A leaf node (a parameter or a tensor marked `requiresGrad`) has no `backward` and keeps
/// the gradient that reaches it in `grad`, summed over every `backward()` call until it is
/// cleared. Interior nodes keep their incoming gradients only while `backward()` runs.
final class GradNode {
    /// The gradient rule: given dOutput for each output (nil where no gradient reached it)
    /// and which inputs need a gradient, returns one gradient per input (nil where not
    /// needed), each of that input's shape.
    typealias Backward = (_ outputGradients: [Tensor?], _ needsGradient: [Bool]) -> [Tensor?]

    /// Where a tensor came from: a node and which of its outputs.
    struct Edge {
        let node: GradNode
        let output: Int
    }

    /// A name for debugging and error messages, e.g. "matmul".
    let operation: String
    /// How many tensors the operation produced.
    let outputCount: Int
    /// The edges of the inputs, in the order `backward` returns their gradients;
    /// nil for inputs that do not take part in gradient computation.
    private(set) var inputs: [Edge?]
    /// The gradient rule; nil for leaves and for interior nodes already back-propagated.
    private(set) var backward: Backward?
    /// Whether this node is a leaf (it then keeps its gradient in `grad`).
    let isLeaf: Bool
    /// Accumulated gradient of a leaf.
    var grad: Tensor?

    /// A leaf node.
    init() {
        self.operation = "leaf"
        self.outputCount = 1
        self.inputs = []
        self.backward = nil
        self.isLeaf = true
    }

    /// An interior node recorded by an operation with `outputCount` outputs.
    init(operation: String, outputCount: Int, inputs: [Edge?], backward: @escaping Backward) {
        self.operation = operation
        self.outputCount = outputCount
        self.inputs = inputs
        self.backward = backward
        self.isLeaf = false
    }

    /// Frees the tape behind this node iteratively.
    ///
    /// A tape that is dropped without `backward()` (an evaluation pass over parameters that
    /// require gradients) would otherwise be freed recursively, one chain of stack frames per
    /// node, and overflow the stack for an RNN unrolled over thousands of steps. Each node is
    /// emptied while `doomed` still holds its inputs, so releasing it never cascades.
    deinit {
        var doomed = inputs.compactMap { $0?.node }
        inputs = []
        backward = nil
        while var node = doomed.popLast() {
            guard isKnownUniquelyReferenced(&node) else { continue }
            doomed += node.inputs.compactMap { $0?.node }
            node.inputs = []
            node.backward = nil
        }
    }

    /// Drops the gradient rule and the tensors it saved, once it has run (as PyTorch frees
    /// a graph after `backward()`): parameters are then no longer shared with the tape.
    func release() {
        backward = nil
        inputs = []
    }

    /// The nodes reachable from `self`, ordered so that every node comes before its inputs.
    ///
    /// Iterative depth-first search: an RNN unrolled over thousands of steps makes a tape
    /// far deeper than the call stack could follow recursively.
    func topologicallySorted() -> [GradNode] {
        var postOrder: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        // Each stack entry is a node and the index of the next input to visit.
        var stack: [(node: GradNode, nextInput: Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while !stack.isEmpty {
            let (node, nextInput) = stack[stack.count - 1]
            if nextInput < node.inputs.count {
                stack[stack.count - 1].nextInput += 1
                if let input = node.inputs[nextInput]?.node, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                postOrder.append(node)
                stack.removeLast()
            }
        }
        return postOrder.reversed()
    }
}
