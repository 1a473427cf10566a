/// Why a policy file was refused, naming the offending key so `edgeproxy check` can point at it.
public struct PolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Dotted path of the key at fault, e.g. `routes[3].upstream`; empty for whole-file faults.
    public var keyPath: String
    /// What is wrong with it, in words an operator can act on.
    public var reason: String

    public init(keyPath: String, reason: String) {
        self.keyPath = keyPath
        self.reason = reason
    }

    public var description: String {
        keyPath.isEmpty ? reason : "\(keyPath): \(reason)"
    }
}
