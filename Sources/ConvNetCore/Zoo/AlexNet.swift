extension ClassicArchitectures {
    /// AlexNet: A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with Deep
    /// Convolutional Neural Networks", NIPS 2012, figure 2 and section 3.5; layer table of the lecture notes
    /// (from Géron, *Hands-on Machine Learning*).
    ///
    /// | layer | | output at 227 | parameters |
    /// |---|---|---|---|
    /// | conv1 | 96 @ 11x11 / 4, valid, ReLU | 55x55x96 | 11·11·3·96 + 96 = 34,944 |
    /// | pool1 | max 3x3 / 2 | 27x27x96 | |
    /// | conv2 | 256 @ 5x5, same, ReLU | 27x27x256 | 5·5·96·256 + 256 = 614,656 |
    /// | pool2 | max 3x3 / 2 | 13x13x256 | |
    /// | conv3, conv4, conv5 | 384, 384, 256 @ 3x3, same, ReLU | 13x13 | 885,120 + 1,327,488 + 884,992 |
    /// | pool5 | max 3x3 / 2 | 6x6x256 | |
    /// | fc6, fc7 | 4096, ReLU, each followed by dropout 0.5 (section 4.2) | 4096 | 37,752,832 + 16,781,312 |
    /// | fc8 | `classes`, softmax | 1000 | 4,097,000 |
    ///
    /// Total at 227x227x3 with 1000 classes: 62,378,344.
    ///
    /// Choices where the sources disagree or ConvNet lacks a layer:
    /// - **Input 227, not 224.** The paper and the lecture notes' table say 224x224, but an 11x11 stride-4
    ///   window gives 55x55 only from 227 pixels ((227 − 11)/4 + 1 = 55); the table's "SAME" for
    ///   conv1 would give ⌈224/4⌉ = 56. conv1 therefore has no padding and the default input is
    ///   227x227x3, as in Caffe's reference AlexNet. Other sizes work (at least 67x67): at 224 conv1
    ///   gives 54x54, pool5 5x5x256 and fc6 6,400 inputs (50,844,008 parameters in all); to keep
    ///   the paper's feature-map sizes, pad 224-pixel images to 227 first.
    /// - **pool5.** the lecture notes' table stops at C7 but the paper (figure 2) max-pools after the fifth
    ///   convolution, which is what makes fc6 take 6·6·256 = 9,216 inputs; it is included.
    /// - **One tower, no local response normalization.** The paper splits conv2, conv4, conv5
    ///   across two GPUs (grouped convolutions) and normalizes after conv1 and conv2; the lecture notes'
    ///   table has neither, and neither does this model.
    static func alexNet(inputShape: LayerShape, classes: Int, seed: UInt64) throws -> Model {
        try Model(name: "alexnet", inputShape: inputShape, seed: seed) {
            Conv2D(96, kernelSize: 11, strides: 4, activation: .relu, name: "conv1")
            MaxPooling2D(poolSize: 3, strides: 2, name: "pool1")
            Conv2D(256, kernelSize: 5, padding: .same, activation: .relu, name: "conv2")
            MaxPooling2D(poolSize: 3, strides: 2, name: "pool2")
            for (index, filters) in [384, 384, 256].enumerated() {
                Conv2D(filters, kernelSize: 3, padding: .same, activation: .relu, name: "conv\(index + 3)")
            }
            MaxPooling2D(poolSize: 3, strides: 2, name: "pool5")
            Flatten(name: "flatten")
            for layer in [6, 7] {
                Dense(4096, activation: .relu, name: "fc\(layer)")
                Dropout(0.5, name: "drop\(layer)")
            }
            Dense(classes, activation: .softmax, name: "fc8")
        }
    }
}
