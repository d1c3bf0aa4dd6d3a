/// The version of the ConvNet library and the `convnet` tool (`convnet --version`).
public enum ConvNetVersion {
    /// The semantic version string, `major.minor.patch` (currently `"0.6.0"`).
    public static let current = "0.6.0"
}
