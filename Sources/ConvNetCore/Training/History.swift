/// Loss and metrics per epoch, as Keras's `History`: keys `loss`, `accuracy`, `val_loss`, ...
public struct History: Sendable, Equatable {
    /// One dictionary per epoch.
    public var epochs: [[String: Double]] = []

    /// A history from its per-epoch logs (empty for a model not yet trained).
    public init(epochs: [[String: Double]] = []) { self.epochs = epochs }

    /// The values of one key over the epochs (missing epochs are skipped).
    public func values(_ key: String) -> [Double] { epochs.compactMap { $0[key] } }

    /// The values of one key over the epochs, as Keras's `history.history["loss"]`: `history["loss"]`.
    public subscript(key: String) -> [Double] { values(key) }

    /// Every key that appears, in a stable order: `loss` and metrics first, then `val_*`, then `lr`.
    public var keys: [String] {
        let all = Set(epochs.flatMap(\.keys))
        func rank(_ key: String) -> Int { key == "loss" ? 0 : key.hasPrefix("val_") ? 2 : key == "learning_rate" ? 3 : 1 }
        return all.sorted { (rank($0), $0) < (rank($1), $1) }
    }
}
