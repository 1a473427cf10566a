public import Policy

/// The signed-in user a page is rendered for: the header shows them, the nav depends on their role.
public struct Viewer: Sendable, Equatable {
    public var id: UserID
    public var email: String
    /// Optional display name, shown as a greeting when present.
    public var name: String?
    public var role: UserRole
    /// The plan the account is on (a name from the policy's plan catalog).
    public var plan: String

    public init(id: UserID, email: String, name: String? = nil, role: UserRole, plan: String) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.plan = plan
    }

    /// The viewer for a stored account.
    public init(account: UserAccount) {
        self.init(id: account.id, email: account.email, name: account.name, role: account.role, plan: account.plan)
    }

    /// The viewer for an authenticated request (a principal carries no display name).
    public init(principal: Principal) {
        self.init(id: principal.userId, email: principal.email, name: nil, role: principal.role, plan: principal.plan)
    }

    /// Whether the Admin link and page are offered.
    public var isAdmin: Bool { role == .admin }
}
