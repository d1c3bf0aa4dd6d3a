/// The version of the ConvNet library and the `convnet` tool (`convnet --version`).
public enum ConvNetVersion {
    public static let current = "0.6.0"
}
