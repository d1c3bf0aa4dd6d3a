/// Where a tensor sits on a tape: which tape, and the index of the node that produced it.
///
/// The reference to the tape is weak: the tape's backward closures hold the tensors of the forward
/// pass, and those tensors hold this entry, so a strong reference would form a cycle that kept
/// every recorded activation alive after the tape's owner let it go. Ops on tensors whose tape is
/// gone simply record nothing.
struct TapeEntry: Sendable {
    weak var tape: GradientTape?
    let id: Int
}

/// Computes the gradients of one recorded node's inputs from the gradient of its output.
///
/// `needed[i]` is false when input `i` is a constant, so the op may skip that work (the first
/// convolution of a network never needs the gradient of its input image). Entries for inputs that
/// are not needed may be `nil`.
typealias BackwardFunction = @Sendable (_ upstream: Tensor, _ needed: [Bool]) throws -> [Tensor?]

/// Reverse-mode automatic differentiation, in the manner of `tf.GradientTape` (lecture notes).
///
/// Watch the tensors you want gradients for, compute with them as usual, then ask for the gradient
/// of a scalar loss:
///
/// ```swift
/// let tape = GradientTape()
/// let w = tape.watch(kernel)
/// let out = try relu(conv2d(x, kernel: w))
/// let loss = try ((out - 1) * (out - 1)).mean()
/// let dW = try tape.gradient(of: loss, withRespectTo: [w])[0]
/// ```
///
/// Every differentiable op checks whether one of its inputs is on a tape; if so it appends a node
/// holding its backward function (which captures what it needs from the forward pass). Nodes are
/// appended in execution order, so walking them backwards from the loss visits every node after all
/// of its consumers: the chain rule accumulates `dL/dx = Σ_consumers dL/dy · ∂y/∂x` correctly.
/// Tensors that are not on a tape (inference) record nothing.
public final class GradientTape: Sendable {
    private struct Node {
        /// For each input of the op, the node id that produced it on this tape, or nil for constants.
        let parents: [Int?]
        /// Nil for watched leaves.
        let backward: BackwardFunction?
    }

    private let nodes = Locked<[Node]>([])

    /// Creates an empty tape; it records nothing until ``watch(_:)`` puts a tensor on it.
    public init() {}

    /// Starts recording operations on `tensor`; use the returned tensor in the computation.
    public func watch(_ tensor: Tensor) -> Tensor {
        var watched = tensor
        watched.tapeEntry = TapeEntry(tape: self, id: append(Node(parents: [], backward: nil)))
        return watched
    }

    private func append(_ node: Node) -> Int {
        nodes.withLock { nodes in
            nodes.append(node)
            return nodes.count - 1
        }
    }

    /// Records an op whose inputs include tensors on this tape; returns the id of its output.
    func record(inputs: [Tensor?], backward: @escaping BackwardFunction) -> Int {
        let parents = inputs.map { input -> Int? in
            guard let entry = input?.tapeEntry, entry.tape === self else { return nil }
            return entry.id
        }
        return append(Node(parents: parents, backward: backward))
    }

    /// The gradient of `target` with respect to each of `sources`, each with its source's shape.
    ///
    /// `target` is usually a scalar loss; for a non-scalar target the result is the gradient of the
    /// sum of its elements, as in TensorFlow. A source that `target` does not depend on gets zeros.
    public func gradient(of target: Tensor, withRespectTo sources: [Tensor]) throws -> [Tensor] {
        guard let targetEntry = target.tapeEntry, targetEntry.tape === self else {
            throw ConvNetError.argument("GradientTape.gradient: the target was not computed from a tensor watched by this tape")
        }
        let recorded = nodes.withLock { $0 }
        var gradients = [Tensor?](repeating: nil, count: targetEntry.id + 1)
        gradients[targetEntry.id] = Tensor(shape: target.shape, repeating: 1)

        // Only nodes that lead to a source need their inputs' gradients.
        let sourceIDs = Set(sources.compactMap { $0.tapeEntry?.tape === self ? $0.tapeEntry?.id : nil })
        var leadsToSource = [Bool](repeating: false, count: targetEntry.id + 1)
        for id in 0...targetEntry.id {
            leadsToSource[id] = sourceIDs.contains(id)
                || recorded[id].parents.contains { $0.map { leadsToSource[$0] } ?? false }
        }

        for id in stride(from: targetEntry.id, through: 0, by: -1) {
            guard let upstream = gradients[id], let backward = recorded[id].backward else { continue }
            let parents = recorded[id].parents
            let needed = parents.map { $0.map { leadsToSource[$0] } ?? false }
            guard needed.contains(true) else { continue }
            let inputGradients = try backward(upstream, needed)
            for (parent, gradient) in zip(parents, inputGradients) {
                guard let parent, leadsToSource[parent], let gradient else { continue }
                try accumulate(gradient, into: &gradients[parent])
            }
            if !sourceIDs.contains(id) { gradients[id] = nil }  // free memory as we go
        }
        return sources.map { source in
            guard let id = source.tapeEntry?.id, source.tapeEntry?.tape === self, id < gradients.count,
                  let gradient = gradients[id] else {
                return Tensor(shape: source.shape, repeating: 0)
            }
            return gradient
        }
    }
}

/// `total += gradient`, in place when `total` holds a gradient of the same shape (every op's
/// backward pass returns its inputs' shapes), else through the broadcasting `adding`.
private func accumulate(_ gradient: Tensor, into total: inout Tensor?) throws {
    guard var sum = total.take() else {
        total = gradient
        return
    }
    if sum.shape == gradient.shape {
        sum.scalars.withUnsafeMutableBufferPointer { sum in
            gradient.scalars.withUnsafeBufferPointer { gradient in
                for i in sum.indices { sum[i] += gradient[i] }
            }
        }
        total = sum
    } else {
        total = try sum.adding(gradient)
    }
}

/// Attaches `output` to the tape of its inputs, if any input is on one.
///
/// Every differentiable op ends with this call. When no input is watched (inference) it returns
/// `output` unchanged and the backward closure is never stored.
func record(_ output: Tensor, inputs: [Tensor?], backward: @escaping BackwardFunction) -> Tensor {
    guard let tape = inputs.lazy.compactMap({ $0?.tapeEntry?.tape }).first else { return output }
    var recorded = output
    recorded.tapeEntry = TapeEntry(tape: tape, id: tape.record(inputs: inputs, backward: backward))
    return recorded
}
