import Foundation
import Policy

// What the templates of the signed-in pages read: dashboard, keys, admin and workspace.
// Stored properties only, because templates read values by name through reflection.

/// `dashboard.mustache`.
struct DashboardContext {
    /// A row of the recent-activity table.
    struct HistoryRow {
        let operation: String
        let memo: String?
        let delta: String
        let deltaClass: String
        let balanceAfter: String
        let time: String
        let timeMachine: String
        let requestId: String
    }

    let layout: LayoutContext
    let greetingName: String?
    let balance: String
    let held: String
    let available: String
    let planLabel: String
    let planAllowance: String?
    let periodEnd: String
    let periodEndMachine: String
    let history: [HistoryRow]
    let hasHistory: Bool
    /// The `before` cursor of `GET /api/tokens` for the next page (the oldest shown sequence), or nil
    /// when the oldest transaction is already shown (sequences start at 1 and have no gaps).
    let olderBefore: String?
    let chart: UsageChart

    init(_ page: DashboardPage, catalog: PolicyCatalog, layout: LayoutContext) {
        self.layout = layout
        let name = page.viewer.name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        greetingName = name.isEmpty ? nil : name
        balance = PortalFormat.tokens(page.balance.balance)
        held = PortalFormat.tokens(page.balance.held)
        available = PortalFormat.tokens(max(0, page.balance.available))
        planLabel = PortalFormat.operationLabel(page.balance.plan)
        planAllowance = catalog.plan(named: page.balance.plan).map(PolicyCatalog.allowance)
        periodEnd = PortalFormat.dateTime(page.balance.periodEnd)
        periodEndMachine = PortalFormat.machineTimestamp(page.balance.periodEnd)
        history = page.history.map(Self.row)
        hasHistory = !page.history.isEmpty
        let oldest = page.history.map(\.sequence).min()
        olderBefore = oldest.flatMap { $0 > 1 ? String($0) : nil }
        chart = UsageChart(usage: page.usage, today: UTCDay(containing: page.now),
                           dayCount: DashboardPage.chartDays, knownOperations: catalog.operations)
    }

    static func row(_ transaction: LedgerTransaction) -> HistoryRow {
        HistoryRow(
            operation: describe(transaction.kind, operation: transaction.operation),
            memo: transaction.memo.isEmpty ? nil : transaction.memo,
            delta: PortalFormat.signedTokens(transaction.delta),
            deltaClass: transaction.delta < 0 ? "delta-negative" : "delta-positive",
            balanceAfter: PortalFormat.tokens(transaction.balanceAfter),
            time: PortalFormat.dateTime(transaction.time),
            timeMachine: PortalFormat.machineTimestamp(transaction.time),
            requestId: transaction.requestId)
    }

    /// What a transaction was, in words (portal.js's `describeTransaction` says the same).
    static func describe(_ kind: TransactionKind, operation: String) -> String {
        switch kind {
        case .charge: PortalFormat.operationLabel(operation)
        case .grant: "Tokens granted"
        case .renewal: "Plan renewal (\(PortalFormat.operationLabel(operation)))"
        case .expiry: "Unused tokens expired (\(PortalFormat.operationLabel(operation)))"
        case .adjustment: "Adjustment"
        }
    }
}

/// `keys.mustache`.
struct KeysContext {
    /// A row of the keys table.
    struct KeyRow {
        let id: String
        let name: String
        let prefix: String
        let created: String
        let createdMachine: String
        let revoked: Bool
        let status: String
        let statusClass: String
    }

    let layout: LayoutContext
    let keys: [KeyRow]
    let hasKeys: Bool

    init(_ page: KeysPage, layout: LayoutContext) {
        self.layout = layout
        keys = page.keys.map { key in
            let revoked = key.revokedAt != nil
            return KeyRow(id: key.keyId, name: key.name, prefix: key.visiblePrefix,
                          created: PortalFormat.dateTime(key.createdAt),
                          createdMachine: PortalFormat.machineTimestamp(key.createdAt),
                          revoked: revoked, status: revoked ? "Revoked" : "Active",
                          statusClass: revoked ? "status-revoked" : "status-active")
        }
        hasKeys = !page.keys.isEmpty
    }
}

/// `admin.mustache`.
struct AdminContext {
    /// An option of the "change plan" select.
    struct PlanOption {
        let name: String
        let label: String
    }

    let layout: LayoutContext
    let planOptions: [PlanOption]

    init(_ page: AdminPage, catalog: PolicyCatalog, layout: LayoutContext) {
        self.layout = layout
        let names = page.plans ?? catalog.plans.map(\.name)
        planOptions = names.map { PlanOption(name: $0, label: PortalFormat.operationLabel($0)) }
    }
}

/// `workspace.mustache`.
struct WorkspaceContext {
    let layout: LayoutContext
    /// The frame's same-origin source; nil shows the "not configured" notice.
    let appURL: String?

    init(_ page: WorkspacePage, layout: LayoutContext) {
        self.layout = layout
        appURL = page.appURL.flatMap(PortalRedirect.sameOriginPath)
    }
}
