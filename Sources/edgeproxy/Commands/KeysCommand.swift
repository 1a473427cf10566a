import ArgumentParser
import Policy

/// `edgeproxy keys …`: issue, list and revoke API keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    /// `keys create EMAIL [--name N]`: the key is printed alone on the last line of stdout, once.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; the key is printed once, alone on the last line.")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address of the key's owner.") var email: String
        @Option(help: "A name to recognise the key by.") var name = "default"

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try requireUser(ledger, email: email)
                let issued = try ledger.createAPIKey(userId: user.id, name: name)
                print("created key \(issued.info.keyId) '\(issued.info.name)' for \(user.email); it is shown only now:")
                print(issued.key)
            }
        }
    }

    /// `keys list EMAIL`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's API keys (never the keys themselves).")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address.") var email: String

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try requireUser(ledger, email: email)
                print("key_id\tprefix\tname\tcreated\trevoked")
                for key in try ledger.apiKeys(userId: user.id) {
                    print("\(key.keyId)\t\(key.visiblePrefix)…\t\(key.name)\t\(isoDate(key.createdAt))\t\(key.revokedAt.map(isoDate) ?? "-")")
                }
            }
        }
    }

    /// `keys revoke KEY_ID`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by its key id (or its rk_<id> prefix).")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "Key id: 16 hex digits, as shown by `keys list`.") var keyId: String

        func run() throws {
            try runReporting {
                var id = keyId.hasPrefix(SecretTokens.apiKeyPrefix) ? String(keyId.dropFirst(SecretTokens.apiKeyPrefix.count)) : keyId
                if id.count > SecretTokens.keyIdLength, id.dropFirst(SecretTokens.keyIdLength).hasPrefix("_") {
                    throw CommandFailure("that looks like a whole API key; pass only its key id (\(id.prefix(SecretTokens.keyIdLength)))")
                }
                id = id.lowercased()
                guard SecretTokens.isKeyId(id) else { throw CommandFailure("'\(keyId)' is not a key id (16 hex digits)") }
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let info = try ledger.revokeAPIKey(keyId: id)
                print("revoked key \(info.keyId) '\(info.name)' (since \(info.revokedAt.map(isoDate) ?? "now"))")
            }
        }
    }
}
