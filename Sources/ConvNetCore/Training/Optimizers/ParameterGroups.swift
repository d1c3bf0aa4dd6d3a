/// Weight decay, in either of its two forms. `α` is the parameter's learning rate (the optimizer's
/// times its group's multiplier) and `λ` the decay.
///
/// - `coupled(λ)`: L2 regularisation folded into the gradient before the optimizer's rule,
///   `g ← g + λ·w` (PyTorch `SGD(weight_decay=λ)` and `Adam(weight_decay=λ)`); with adaptive
///   optimizers the decay is then scaled by the per-element step size.
/// - `decoupled(λ)`: shrinks the weight independently of the gradient, `w ← w − α·λ·w`
///   (Loshchilov and Hutter's AdamW, Keras `AdamW`, PyTorch `AdamW`). Adam computes it from the
///   weight before its step, `w ← w − (α·V̂/√(Ŝ + ε) + α·λ·w)`, and `Adam(weightDecay: λ)` is this
///   form for every parameter; the other optimizers apply it just before their rule.
///
/// A frozen parameter (see `ParameterGroup`) gets neither.
public enum WeightDecay: Sendable, Equatable, Codable {
    /// L2 in the gradient: `g ← g + λ·w`, then the optimizer's rule on `g`.
    case coupled(Float)
    /// AdamW's decay: `w ← w − α·λ·w` besides the rule's step.
    case decoupled(Float)

    /// No decay (`λ = 0`): use it in a group to exempt parameters from the optimizer's default decay.
    public static var zero: WeightDecay { .decoupled(0) }
}

/// Which parameters a `ParameterGroup` covers: every criterion that is set must match (a selector
/// with none set matches every parameter).
///
/// `ParameterSelector.layerKind("BatchNormalization", weight: "beta")` selects all batch
/// normalization betas; `.layer("conv2d")` both weights of `conv2d`; `.path("dense/bias")` one weight.
public struct ParameterSelector: Sendable, Equatable, Codable {
    /// The whole path, `<layer>/<weight>`.
    public var path: String?
    /// The layer's name (`conv2d_1`).
    public var layerName: String?
    /// The weight's name within its layer (`kernel`, `bias`, `gamma`, `beta`).
    public var weightName: String?
    /// The layer's Keras class name (`Conv2D`, `Dense`, `BatchNormalization`).
    public var layerKind: String?

    /// A selector matching parameters on every criterion given (`nil` criteria match anything).
    public init(path: String? = nil, layerName: String? = nil, weightName: String? = nil, layerKind: String? = nil) {
        self.path = path
        self.layerName = layerName
        self.weightName = weightName
        self.layerKind = layerKind
    }

    /// The parameter at `path` (`<layer>/<weight>`).
    public static func path(_ path: String) -> ParameterSelector { ParameterSelector(path: path) }
    /// Every weight of the layer named `name`.
    public static func layer(_ name: String) -> ParameterSelector { ParameterSelector(layerName: name) }
    /// Every weight named `name` (`bias`), in any layer.
    public static func weight(_ name: String) -> ParameterSelector { ParameterSelector(weightName: name) }
    /// Every weight of the layers of Keras class `kind`, or only those named `weight`.
    public static func layerKind(_ kind: String, weight: String? = nil) -> ParameterSelector {
        ParameterSelector(weightName: weight, layerKind: kind)
    }
    /// Every parameter.
    public static var all: ParameterSelector { ParameterSelector() }

    /// Whether `parameter` meets every criterion that is set.
    public func matches(_ parameter: Parameter) -> Bool {
        (path ?? parameter.path) == parameter.path && (layerName ?? parameter.layerName) == parameter.layerName
            && (weightName ?? parameter.weightName) == parameter.weightName
            && (layerKind ?? parameter.layerKind) == parameter.layerKind
    }
}

/// Parameters that train with their own settings (PyTorch `param_groups`, `requires_grad=False`).
///
/// A parameter belongs to the first group, in the optimizer's `parameterGroups`, with a selector
/// that matches it; parameters in no group train with the optimizer's own settings. For a
/// parameter of group `G` the optimizer's step uses
///
///     α = learningRate · G.learningRateMultiplier
///     λ = G.weightDecay ?? the optimizer's default (Adam's `weightDecay`, decoupled; none for the others)
///
/// and a frozen group's parameters get no update and no decay at all: their values stay
/// bit-identical and no optimizer state is created for them.
public struct ParameterGroup: Sendable, Equatable, Codable {
    /// The group's parameters: those matching any of these selectors.
    public var selectors: [ParameterSelector]
    /// Multiplies the optimizer's (scheduled) learning rate: `α_G = α · multiplier`.
    public var learningRateMultiplier: Float
    /// The group's decay, replacing the optimizer's default; `nil` keeps the default.
    public var weightDecay: WeightDecay?
    /// When true the group's parameters are not updated (`requires_grad=False`).
    public var isFrozen: Bool

    /// A group of the parameters matching any of `selectors`, trained with step
    /// `α · learningRateMultiplier` and `weightDecay` (or the optimizer's default when `nil`), or
    /// not at all when `frozen`.
    public init(_ selectors: [ParameterSelector], learningRateMultiplier: Float = 1, weightDecay: WeightDecay? = nil,
                frozen: Bool = false) {
        self.selectors = selectors
        self.learningRateMultiplier = learningRateMultiplier
        self.weightDecay = weightDecay
        self.isFrozen = frozen
    }

    /// A frozen group: the parameters matching any of `selectors` keep their values.
    public static func frozen(_ selectors: [ParameterSelector]) -> ParameterGroup {
        ParameterGroup(selectors, frozen: true)
    }

    /// Whether `parameter` belongs to this group.
    public func contains(_ parameter: Parameter) -> Bool { selectors.contains { $0.matches(parameter) } }
}

/// How the optimizer treats one parameter, resolved from its group.
struct ParameterSettings {
    var learningRateMultiplier: Float = 1
    var weightDecay: WeightDecay?
    var isFrozen = false

    init(for parameter: Parameter, groups: [ParameterGroup], defaultDecay: WeightDecay?) {
        weightDecay = defaultDecay
        guard let group = groups.first(where: { $0.contains(parameter) }) else { return }
        learningRateMultiplier = group.learningRateMultiplier
        weightDecay = group.weightDecay ?? defaultDecay
        isFrozen = group.isFrozen
    }

    /// `λ` of the coupled form, else 0.
    var coupledDecay: Float { if case let .coupled(lambda) = weightDecay { lambda } else { 0 } }
    /// `λ` of the decoupled form, else 0.
    var decoupledDecay: Float { if case let .decoupled(lambda) = weightDecay { lambda } else { 0 } }
}

extension Optimizer {
    /// This optimizer with `groups` as its `parameterGroups` (see `ParameterGroup`).
    public func withParameterGroups(_ groups: [ParameterGroup]) -> Self {
        var copy = self
        copy.parameterGroups = groups
        return copy
    }

    /// Whether `parameter` belongs to a frozen group of this optimizer.
    public func isFrozen(_ parameter: Parameter) -> Bool {
        parameterGroups.first { $0.contains(parameter) }?.isFrozen ?? false
    }
}
