extension Model {
    /// This model with dropout where the zoo puts it (`ModelZoo.model(named:dropout:)`): every
    /// `Dropout` set to `rate`, and a new `Dropout(rate)` after every `Flatten`,
    /// `GlobalAveragePooling2D` and hidden `Dense` layer not followed by one already. Weights are
    /// kept (dropout has none), so a trained model from a file can be fine-tuned or swept with
    /// dropout as a zoo model can; `rate` 0 returns the model unchanged.
    ///
    /// - Throws: `ConvNetError.argument` unless `0 ≤ rate < 1`.
    public func withDropout(rate: Float) throws -> Model {
        guard rate >= 0, rate < 1 else { throw ConvNetError.argument("dropout: rate must be in [0, 1), got \(rate)") }
        guard rate > 0 else { return self }
        let (layers, inbound) = ModelZoo.withDropout(rate: rate, layers: layers, inbound: inbound)
        var model = try Model(name: name, inputShape: inputShape, layers: layers, inbound: inbound, isSequential: isSequential)
        model.metadata = metadata
        return model
    }
}
