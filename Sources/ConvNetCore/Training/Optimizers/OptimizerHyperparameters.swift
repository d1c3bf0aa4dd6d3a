extension Optimizer {
    /// The values that recreate this optimizer (Keras's names where Keras has them).
    public var hyperparameters: [String: Float] {
        var values: [String: Float] = ["learning_rate": learningRate]
        switch self {
        case let momentum as Momentum:
            values["beta"] = momentum.beta
            values["classic"] = momentum.form == .classic ? 1 : 0
        case let adagrad as Adagrad: values["epsilon"] = adagrad.epsilon
        case let rmsprop as RMSprop:
            values["rho"] = rmsprop.rho
            values["epsilon"] = rmsprop.epsilon
        case let adam as Adam:
            values["beta_1"] = adam.beta1
            values["beta_2"] = adam.beta2
            values["epsilon"] = adam.epsilon
            values["weight_decay"] = adam.weightDecay
        default: break
        }
        return values
    }
}
