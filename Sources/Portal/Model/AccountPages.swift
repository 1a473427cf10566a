public import Foundation
public import Policy

/// What `/dashboard` shows: the viewer's balance and plan, recent history, and usage per day.
public struct DashboardPage: Sendable, Equatable {
    public var viewer: Viewer
    public var balance: LedgerBalance
    /// Most recent transactions, newest first (as `Ledger.history` returns them).
    public var history: [LedgerTransaction]
    /// Charges per UTC day and operation; rows outside the chart's 30 days are ignored.
    public var usage: [UsageRow]
    /// "Today" for the chart: the 30 UTC days shown end with the day containing `now`.
    public var now: Date

    public init(viewer: Viewer, balance: LedgerBalance, history: [LedgerTransaction], usage: [UsageRow], now: Date) {
        self.viewer = viewer
        self.balance = balance
        self.history = history
        self.usage = usage
        self.now = now
    }

    /// How many days the usage chart spans, today included.
    public static let chartDays = 30
}

/// What `/dashboard/keys` shows: the viewer's API keys, and the forms to create and revoke them.
public struct KeysPage: Sendable, Equatable {
    public var viewer: Viewer
    /// In display order (the ledger lists them oldest first).
    public var keys: [APIKeyInfo]

    public init(viewer: Viewer, keys: [APIKeyInfo]) {
        self.viewer = viewer
        self.keys = keys
    }
}

/// What `/workspace` shows: the Recraftor app in a frame, or a notice when no app upstream is set.
public struct WorkspacePage: Sendable, Equatable {
    public var viewer: Viewer
    /// The same-origin path the frame loads (e.g. `/`), or nil when the app upstream is not configured.
    /// An absolute URL is refused (nil): the portal's CSP allows only same-origin frames.
    public let appURL: String?

    public init(viewer: Viewer, appURL: String?) {
        self.viewer = viewer
        self.appURL = appURL.flatMap(PortalRedirect.sameOriginPath)
    }
}

/// What `/pricing` shows; plans and prices always come from the site's policy.
public struct PricingPage: Sendable, Equatable {
    /// nil for a visitor who is not signed in (the nav offers sign-in and sign-up instead).
    public var viewer: Viewer?

    public init(viewer: Viewer? = nil) {
        self.viewer = viewer
    }
}

/// What `/admin` shows: user lookup, token grants and plan changes. Rendered for an admin viewer only;
/// anyone else gets the 403 page.
public struct AdminPage: Sendable, Equatable {
    public var viewer: Viewer
    /// The plans offered in the "change plan" select; nil means every plan in the policy's catalog.
    public var plans: [String]?

    public init(viewer: Viewer, plans: [String]? = nil) {
        self.viewer = viewer
        self.plans = plans
    }
}
