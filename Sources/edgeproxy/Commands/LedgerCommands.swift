import ArgumentParser

/// Ledger administration commands (users, keys, tokens, ledger); filled in by the ledger work.
let ledgerSubcommands: [any ParsableCommand.Type] = [UsersCommand.self, KeysCommand.self, TokensCommand.self, LedgerCommand.self]
