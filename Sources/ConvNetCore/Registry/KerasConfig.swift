import Foundation

/// One value of a Keras config (the JSON of `get_config()`): Sendable and comparable, so configs
/// can be built, stored and compared without `Any`.
public enum KerasValue: Sendable, Equatable, Hashable, Codable {
    /// JSON `null` (Python `None`).
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A whole number.
    case int(Int)
    /// A number with a fraction.
    case double(Double)
    /// A string.
    case string(String)
    /// A list.
    case array([KerasValue])
    /// A nested config or object.
    case object([String: KerasValue])

    /// Reads any JSON value; numbers without a fraction become `.int`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([KerasValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: KerasValue].self)) }
    }

    /// Writes the value as JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// The value parsed from JSON text, or an error naming `what` was being read.
    public static func parse(json: String, what: String) throws -> KerasValue {
        do {
            return try JSONDecoder().decode(KerasValue.self, from: Data(json.utf8))
        } catch {
            throw ConvNetError.argument("\(what): not valid JSON")
        }
    }

    /// The value as JSON text with sorted keys.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The string, when this is one.
    public var string: String? { if case let .string(value) = self { value } else { nil } }
    /// The whole number, when this is one (or a number with a zero fraction).
    public var int: Int? {
        switch self {
        case let .int(value): value
        case let .double(value) where value.rounded() == value && abs(value) < 1e15: Int(value)
        default: nil
        }
    }
    /// The number, when this is one.
    public var double: Double? {
        switch self {
        case let .int(value): Double(value)
        case let .double(value): value
        default: nil
        }
    }
    /// The Boolean, when this is one.
    public var bool: Bool? { if case let .bool(value) = self { value } else { nil } }
    /// The list, when this is one.
    public var array: [KerasValue]? { if case let .array(value) = self { value } else { nil } }
    /// The object, when this is one.
    public var object: [String: KerasValue]? { if case let .object(value) = self { value } else { nil } }
    /// Whether this is `null`.
    public var isNull: Bool { self == .null }
}

extension KerasValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                      ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    /// `"relu"`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `3`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// `0.5`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `true`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `[1, 1]`.
    public init(arrayLiteral elements: KerasValue...) { self = .array(elements) }
    /// `["l2": 0.01]`.
    public init(dictionaryLiteral elements: (String, KerasValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `nil` → `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension KerasValue {
    /// A list of whole numbers.
    public init(_ values: [Int]) { self = .array(values.map(KerasValue.int)) }
    /// A `Float` widened to `Double`, as Keras's JSON keeps it.
    public init(_ value: Float) { self = .double(Double(value)) }
}

/// A Keras class name with its config, `{"class_name": "Conv2D", "config": {...}}`: what Keras's
/// `get_config()` writes and `from_config()` reads, for layers, initializers and regularizers.
///
/// The typed readers (`int`, `float`, `pair`, ...) throw one-line errors naming the class, the
/// object's `name` and the key.
public struct KerasConfig: Sendable, Equatable {
    /// Keras's class name, e.g. `Conv2D`.
    public var className: String
    /// The keys of the config.
    public var values: [String: KerasValue]
    /// Keras 3's `registered_name` (`"package>Name"` of `keras.saving.register_keras_serializable`):
    /// when a reader knows an object by this name it takes precedence over `className`, which is
    /// then the built-in stand-in for readers that do not (Keras resolves objects the same way).
    public var registeredName: String?

    /// A config of `className` with `values`, registered as `registeredName` when given.
    public init(className: String, values: [String: KerasValue] = [:], registeredName: String? = nil) {
        self.className = className
        self.values = values
        self.registeredName = registeredName
    }

    /// Reads Keras's serialised object form: `{"class_name": ..., "config": {...}}`, or a bare
    /// name (`"glorot_uniform"`), which has an empty config.
    public init(serialized value: KerasValue, what: String) throws {
        if let name = value.string {
            self.init(className: name)
            return
        }
        guard let object = value.object, let className = object["class_name"]?.string else {
            throw ConvNetError.argument("\(what): expected {\"class_name\": ..., \"config\": {...}}")
        }
        self.init(className: className, values: object["config"]?.object ?? [:], registeredName: object["registered_name"]?.string)
    }

    /// Keras 3's serialised object form, `{"module": module, "class_name": ..., "config": {...}, "registered_name": null}`
    /// (`registeredName` when there is one).
    public func serialized(module: String) -> KerasValue {
        .object(["module": .string(module), "class_name": .string(className), "config": .object(values),
                 "registered_name": registeredName.map(KerasValue.string) ?? .null])
    }

    /// The value of `key`, if present.
    public subscript(key: String) -> KerasValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The `name` key (a layer's name), or empty.
    public var name: String { values["name"]?.string ?? "" }

    /// How errors name this config: `Keras Conv2D 'conv1'`.
    public var context: String { name.isEmpty ? "Keras \(className)" : "Keras \(className) '\(name)'" }

    /// A one-line error about `key`.
    public func invalid(_ key: String, _ expected: String) -> ConvNetError {
        .argument("\(context): '\(key)' must be \(expected)")
    }

    /// `key` if present and not null, else nil.
    private func present(_ key: String) -> KerasValue? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    /// A whole number; `fallback` when absent (an error when there is none).
    public func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        guard let value = present(key) else {
            if let fallback { return fallback }
            throw invalid(key, "given")
        }
        guard let number = value.int else { throw invalid(key, "a whole number") }
        return number
    }

    /// A number; `fallback` when absent (an error when there is none).
    public func float(_ key: String, default fallback: Float? = nil) throws -> Float {
        guard let value = present(key) else {
            if let fallback { return fallback }
            throw invalid(key, "given")
        }
        guard let number = value.double else { throw invalid(key, "a number") }
        return Float(number)
    }

    /// A Boolean; `fallback` when absent.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = present(key) else { return fallback }
        guard let flag = value.bool else { throw invalid(key, "true or false") }
        return flag
    }

    /// A string; `fallback` when absent (an error when there is none).
    public func string(_ key: String, default fallback: String? = nil) throws -> String {
        guard let value = present(key) else {
            if let fallback { return fallback }
            throw invalid(key, "given")
        }
        guard let text = value.string else { throw invalid(key, "a string") }
        return text
    }

    /// `3` or `[3, 3]` → `[3, 3]`; `fallback` when absent (an error when there is none).
    public func pair(_ key: String, default fallback: [Int]? = nil) throws -> [Int] {
        guard let value = present(key) else {
            if let fallback { return fallback }
            throw invalid(key, "given")
        }
        if let single = value.int { return [single, single] }
        guard let list = value.array?.compactMap(\.int), list.count == 2, value.array?.count == 2 else {
            throw invalid(key, "a number or two numbers")
        }
        return list
    }

    /// A nested serialised object (an initializer, a regularizer), or nil when absent or null.
    public func nested(_ key: String) throws -> KerasConfig? {
        guard let value = present(key) else { return nil }
        return try KerasConfig(serialized: value, what: "\(context): '\(key)'")
    }
}
