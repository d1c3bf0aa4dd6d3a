import ArgumentParser
import ConvNet

/// `--pad N`: zeros around every image, as LeCun et al. padded MNIST's 28x28 digits to 32x32 for
/// LeNet-5. Shared by the commands that read images (train, evaluate, sweep, visualize, predict).
struct PadOption: ParsableArguments {
    @Option(help: ArgumentHelp("Pad every image with N zero pixels on each side, after fitting it to the model's input less 2N (LeNet-5's authors padded 28x28 MNIST to 32x32: --pad 2 for lenet5-classic). Pass the same --pad to evaluate and predict as to train.",
                               valueName: "N"))
    var pad: Int?

    func validate() throws {
        if let pad, pad < 0 { throw ValidationError("--pad must be 0 or more pixels, got \(pad)") }
    }

    /// The padding asked for, or `nil` without `--pad`.
    var padding: ImagePadding? {
        get throws { try pad.map(ImagePadding.init(pixels:)) }
    }
}
