/// A thread-safe table from names to entries, one per kind (layers, optimizers, losses, schedules,
/// initializers): the built-in entries are registered when it is first used, users add theirs with
/// `register`. Looking up a name it does not know throws an error naming the name and listing the
/// known ones; nothing is ever substituted.
package final class Registry<Entry: Sendable>: Sendable {
    private struct Table: Sendable {
        var order: [String] = []
        var entries: [String: Entry] = [:]
    }

    /// What the entries are, for messages: `layer`, `optimizer`, ...
    package let kind: String
    private let table: Locked<Table>

    /// A registry of `kind` holding `builtIns` (in order; a repeated name keeps its first entry).
    package init(kind: String, builtIns: [(name: String, entry: Entry)]) {
        self.kind = kind
        var table = Table()
        for (name, entry) in builtIns where table.entries[name] == nil {
            table.order.append(name)
            table.entries[name] = entry
        }
        self.table = Locked(table)
    }

    /// Adds `entry` under each of `names`, replacing an entry registered before under the same name.
    package func register(_ names: [String], _ entry: Entry) {
        table.withLock { table in
            for name in names {
                if table.entries.updateValue(entry, forKey: name) == nil { table.order.append(name) }
            }
        }
    }

    /// The entry registered as `name`, or nil.
    package func entryIfKnown(_ name: String) -> Entry? {
        table.withLock { $0.entries[name] }
    }

    /// The entry registered as `name`, or an error naming it and listing the known names.
    package func entry(_ name: String) throws -> Entry {
        guard let entry = entryIfKnown(name) else { throw unknown(name) }
        return entry
    }

    /// The error for a name that is not registered.
    package func unknown(_ name: String) -> ConvNetError {
        .argument("unknown \(kind) '\(name)'; known: \(names.joined(separator: ", "))")
    }

    /// Every registered name, built-in ones first, in registration order.
    package var names: [String] { table.withLock { $0.order } }
}
