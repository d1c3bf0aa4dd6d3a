import ConvNetCore
import Foundation

/// How raw values (filter outputs, kernels, activations) become displayable pixel values `0...255`.
///
/// Convolution outputs are not images: an edge kernel gives values of both signs, a blur gives
/// values in range, a learned kernel gives small numbers around 0. Each scaling states one rule:
///
/// | case        | formula                                        | used for                               |
/// |-------------|------------------------------------------------|----------------------------------------|
/// | `.clamp`    | `min(max(v, 0), 255)`                          | blur, sharpen, identity (already 0…255) |
/// | `.absolute` | `255 · |v| / max|v|` (all 0 when `max|v| = 0`) | edge kernels, Sobel, image gradients   |
/// | `.minMax`   | `255 · (v − min) / (max − min)` (128 if flat)  | custom kernels, learned kernels         |
///
/// The maximum and minimum are taken over the whole tensor given (all channels together, so an RGB
/// result keeps its colours); apply the scaling per tile to scale tiles independently.
public enum DisplayScaling: String, Sendable, CaseIterable {
    case clamp
    case absolute
    case minMax = "minmax"

    /// `values` mapped to `0...255` by this rule (see the table above); the shape is unchanged.
    /// NaN becomes 0.
    public func apply(to values: Tensor) -> Tensor {
        var copy = values.detached
        copy.scalars = apply(to: values.scalars)
        return copy
    }

    /// The scalar form of `apply(to:)`.
    public func apply(to values: [Float]) -> [Float] {
        let finite = values.filter(\.isFinite)
        switch self {
        case .clamp:
            return values.map { $0.isNaN ? 0 : Swift.min(Swift.max($0, 0), 255) }
        case .absolute:
            let largest = finite.map(Swift.abs).max() ?? 0
            guard largest > 0 else { return values.map { _ in 0 } }
            return values.map { $0.isNaN ? 0 : Swift.min(255 * Swift.abs($0) / largest, 255) }
        case .minMax:
            guard let low = finite.min(), let high = finite.max(), high > low else { return values.map { _ in 128 } }
            return values.map { $0.isNaN ? 0 : Swift.min(Swift.max(255 * ($0 - low) / (high - low), 0), 255) }
        }
    }

    /// One line for help texts and logs, e.g. `|v| scaled so max |v| = 412 -> 255`.
    public func describe(for values: [Float]) -> String {
        let finite = values.filter(\.isFinite)
        switch self {
        case .clamp:
            return "values clamped to 0...255"
        case .absolute:
            return "|v| scaled linearly so max |v| = \(Self.format(finite.map(Swift.abs).max() ?? 0)) -> 255"
        case .minMax:
            return "min..max = \(Self.format(finite.min() ?? 0))..\(Self.format(finite.max() ?? 0)) mapped linearly to 0..255"
        }
    }

    static func format(_ value: Float) -> String {
        value == value.rounded() && Swift.abs(value) < 1e7 ? String(Int(value)) : String(format: "%.4g", Double(value))
    }
}

/// An 8-bit RGB colour.
public struct RGBColor: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Red intensity, `0...255` (sRGB, not linear light).
    public var red: UInt8
    /// Green intensity, `0...255` (sRGB, not linear light).
    public var green: UInt8
    /// Blue intensity, `0...255` (sRGB, not linear light).
    public var blue: UInt8

    /// The colour with these channel values, each `0...255`.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A gray level.
    public init(gray: UInt8) { self.init(gray, gray, gray) }

    /// `#ffffff`: backgrounds of canvases, SVG documents and grids.
    public static let white = RGBColor(255, 255, 255)
    /// `#000000`: axes and text.
    public static let black = RGBColor(0, 0, 0)

    /// Matplotlib's default colour cycle (Tableau 10), for plot series.
    public static let palette: [RGBColor] = [
        RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40),
        RGBColor(148, 103, 189), RGBColor(140, 86, 75), RGBColor(227, 119, 194), RGBColor(127, 127, 127),
    ]

    /// `#rrggbb`, as SVG writes colours.
    public var description: String { String(format: "#%02x%02x%02x", red, green, blue) }

    /// `(1 − t) · self + t · other`, per channel, `t` clamped to `0...1`.
    public func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        let t = Swift.min(Swift.max(t.isNaN ? 0 : t, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
        return RGBColor(mix(red, other.red), mix(green, other.green), mix(blue, other.blue))
    }

    /// Relative luminance `0.299 R + 0.587 G + 0.114 B` in `0...255`, to choose readable text colours.
    public var luma: Double { 0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue) }
}

/// A colour scale for values in `0...1`, piecewise linear between evenly spaced stops.
public struct ColorMap: Sendable, Equatable {
    /// The colours at `0, 1/(n−1), 2/(n−1), ..., 1`; never empty.
    public let stops: [RGBColor]

    /// A scale through `stops`, evenly spaced over `0...1`; no stops give black to white, and a
    /// single stop maps every value to that colour.
    public init(stops: [RGBColor]) {
        self.stops = stops.isEmpty ? [.black, .white] : stops
    }

    /// Black, dark red, red, orange, yellow, white (like matplotlib's `hot`/`inferno`): for saliency.
    public static let heat = ColorMap(stops: [RGBColor(0, 0, 0), RGBColor(120, 0, 20), RGBColor(220, 30, 10),
                                              RGBColor(255, 140, 0), RGBColor(255, 230, 60), RGBColor(255, 255, 255)])
    /// White to dark blue (matplotlib's `Blues`): for confusion-matrix cells.
    public static let blues = ColorMap(stops: [RGBColor(247, 251, 255), RGBColor(198, 219, 239), RGBColor(107, 174, 214),
                                               RGBColor(33, 113, 181), RGBColor(8, 48, 107)])

    /// The colour of `value`, clamped to `0...1` (NaN is 0).
    public func color(_ value: Double) -> RGBColor {
        guard stops.count > 1 else { return stops[0] }
        let t = Swift.min(Swift.max(value.isNaN ? 0 : value, 0), 1) * Double(stops.count - 1)
        let index = Swift.min(Int(t), stops.count - 2)
        return stops[index].mixed(with: stops[index + 1], t - Double(index))
    }
}
