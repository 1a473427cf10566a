import ArgumentParser
import Foundation
import Policy

/// `edgeproxy users …`: create, list and re-plan accounts.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Create and list user accounts.",
        subcommands: [Add.self, List.self, SetPlan.self])

    /// `users add EMAIL [--plan P] [--admin] [--password-stdin] [--name N]`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (e-mail addresses are unique in any letter case).")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Plan from the policy's catalog (default: the catalog's default plan).") var plan: String?
        @Flag(help: "Make the user an administrator.") var admin = false
        @Flag(name: .customLong("password-stdin"), help: "Read a password from the first line of standard input.") var passwordStdin = false
        @Option(help: "Display name.") var name: String?

        func run() throws {
            try runReporting {
                guard UserAccount.normalizedEmail(email) != nil else { throw CommandFailure("'\(email)' is not a valid e-mail address") }
                var password: String?
                if passwordStdin {
                    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                        throw CommandFailure("--password-stdin: no password on standard input")
                    }
                    password = line
                }
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try ledger.createUser(email: email, password: password, plan: plan, role: admin ? .admin : .user, name: name)
                let balance = try ledger.balance(userId: user.id)
                print("created user \(user.id) \(user.email) plan=\(user.plan) role=\(user.role.rawValue) balance=\(balance?.balance ?? 0)")
            }
        }
    }

    /// `users list [--json]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users with their plans and balances.")

        @OptionGroup var location: LedgerLocation
        @Flag(help: "One JSON object per line.") var json = false

        struct Row: Encodable {
            var id: UInt64, email: String, plan: String, role: String, balance: Int64, held: Int64, created: String
        }

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let users = try ledger.users()
                if !json { print("id\temail\tplan\trole\tbalance\theld\tcreated") }
                for user in users {
                    let balance = try ledger.balance(userId: user.id)
                    let row = Row(id: user.id.rawValue, email: user.email, plan: user.plan, role: user.role.rawValue,
                                  balance: balance?.balance ?? 0, held: balance?.held ?? 0, created: isoDate(user.createdAt))
                    print(json ? try jsonLine(row) : "\(row.id)\t\(row.email)\t\(row.plan)\t\(row.role)\t\(row.balance)\t\(row.held)\t\(row.created)")
                }
            }
        }
    }

    /// `users set-plan EMAIL PLAN`: an admin's plan change, effective now.
    struct SetPlan: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-plan", abstract: "Move a user to another plan now (a new period starts with its allocation).")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address.") var email: String
        @Argument(help: "Plan name from the policy's catalog.") var plan: String

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try requireUser(ledger, email: email)
                let balance = try ledger.changePlan(userId: user.id, to: plan, actor: commandActor)
                print("\(user.email) is now on \(balance.plan): balance \(balance.balance), next renewal \(isoDate(balance.periodEnd))")
            }
        }
    }
}
