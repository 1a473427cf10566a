import Foundation
import Policy
import Portal
import Testing

/// What keeps the pages safe under the edge's strict CSP: escaping, no inline code, no open redirect.
@Suite("Portal security: escaping, CSP-clean markup, same-origin callbacks")
struct PortalSecurityTests {
    let site: PortalSite
    let fixture: LedgerFixture
    let rendered: RenderedSite

    init() throws {
        (site, fixture, rendered) = try renderDefaultSite()
    }

    @Test("User data (names, key names, reasons, request ids, notices, plan names) is always HTML-escaped")
    func escaping() {
        for (name, document) in rendered.pages {
            #expect(!document.html.contains(hostileText), "\(name) contains the raw script")
            #expect(!document.html.contains("<script>"), "\(name)")
        }
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        #expect(rendered["dashboard"].html.contains("Ada \(escaped)"))
        #expect(rendered["dashboard"].html.contains("welcome \(escaped)"))
        #expect(rendered["dashboard"].html.contains("req-\(escaped)"))
        #expect(rendered["keys"].html.contains("<td>key \(escaped)</td>"))
        #expect(rendered["keys"].html.contains("data-confirm=\"Revoke the key “key \(escaped)”?"))
        #expect(rendered["signIn"].html.contains(escaped))
        #expect(rendered["admin"].html.contains("<option value=\"\(escaped)\">"))
    }

    @Test("Quotes in user data cannot break out of an attribute")
    func attributeEscaping() throws {
        let user = try fixture.ledger.createUser(email: "quotes@example.com")
        _ = try fixture.ledger.createAPIKey(userId: user.id, name: "x\" onmouseover=\"alert(1)' data-x='")
        let html = site.render(.keys(KeysPage(viewer: Viewer(account: user), keys: try fixture.ledger.apiKeys(userId: user.id)))).html
        #expect(!html.contains("\" onmouseover=\""))
        #expect(html.contains("x&quot; onmouseover=&quot;alert(1)&#39; data-x=&#39;"))
    }

    @Test("No page has inline script, event-handler attributes, style attributes or elements, or javascript: URLs")
    func contentSecurityPolicyClean() throws {
        for (name, document) in rendered.pages {
            let html = document.html
            let scripts = try html.matches(of: "<script\\b([^>]*)>")
            #expect(!scripts.isEmpty, "\(name) loads portal.js")
            for script in scripts {
                #expect(script[1].contains("src=\"/portal/assets/"), "\(name): inline or foreign script \(script[0])")
            }
            #expect(try html.matches(of: "<script\\b[^>]*>[^<]+</script>").isEmpty, "\(name): script with a body")
            #expect(try html.matches(of: "\\son[a-z]+\\s*=").isEmpty, "\(name): event-handler attribute")
            #expect(try html.matches(of: "\\sstyle\\s*=").isEmpty, "\(name): style attribute")
            #expect(try html.matches(of: "<style\\b").isEmpty, "\(name): style element")
            #expect(!html.lowercased().contains("javascript:"), "\(name): javascript: URL")
            // Everything loads from this origin: no CDN, no external fonts.
            #expect(try html.matches(of: "(?:src|href)=\"(?:https?:)?//").isEmpty, "\(name): external resource")
        }
        #expect(PortalSite.contentSecurityPolicy.contains("script-src 'self'"))
        #expect(PortalSite.contentSecurityPolicy.contains("style-src 'self'"))
    }

    @Test("Every form control has a label; every alert region is live")
    func accessibleForms() throws {
        for (name, document) in rendered.pages {
            let html = document.html
            let ids = Set(try html.matches(of: "<label for=\"([^\"]+)\"").map { $0[1] })
            for control in try html.matches(of: "<(input|select)\\b([^>]*)>") where !control[2].contains("type=\"hidden\"") {
                let id = try control[2].matches(of: "\\bid=\"([^\"]+)\"").first?[1]
                // Either <label for=id>, or wrapped in a <label> (the admin card's fields).
                let labelled = id.map(ids.contains) ?? false
                let wrapped = html.range(of: control[0]).map { range in
                    let before = html[..<range.lowerBound]
                    guard let open = before.range(of: "<label", options: .backwards) else { return false }
                    return !before[open.upperBound...].contains("</label>")
                } ?? false
                #expect(labelled || wrapped, "\(name): unlabelled \(control[0])")
            }
            for alert in try html.matches(of: "<[a-z]+[^>]*role=\"alert\"[^>]*>") {
                #expect(alert[0].contains("aria-live"), "\(name): \(alert[0])")
            }
        }
    }

    @Test("callbackURL: same-origin paths are kept; //evil.com, https://evil.com and tricks become /dashboard")
    func callbackValidation() {
        let refused = ["//evil.com", "https://evil.com", "http://evil.com/dashboard", "/\\evil.com", "/\t/evil.com",
                       "javascript:alert(1)", "evil.com", "", " /dashboard", "/dash\nboard", "\\\\evil.com"]
        for target in refused {
            #expect(SignInPage(callbackURL: target).callbackURL == "/dashboard", "\(target.debugDescription)")
            #expect(SignUpPage(callbackURL: target).callbackURL == "/dashboard", "\(target.debugDescription)")
            #expect(PortalRedirect.sameOriginPath(target) == nil, "\(target.debugDescription)")
        }
        #expect(SignInPage(callbackURL: nil).callbackURL == "/dashboard")
        #expect(SignInPage().callbackURL == "/dashboard")
        for kept in ["/dashboard/keys", "/workspace?project=3#top", "/", "/admin"] {
            #expect(SignInPage(callbackURL: kept).callbackURL == kept)
        }
        for target in ["//evil.com", "https://evil.com"] {
            let html = site.render(.signIn(SignInPage(callbackURL: target))).html
            #expect(html.contains("data-redirect=\"/dashboard\""))
            #expect(!html.contains("evil.com"))
        }
    }

    @Test("portal.js applies the same redirect rule before navigating")
    func scriptValidatesRedirects() throws {
        let script = String(decoding: try #require(site.asset(named: "portal.js")).bytes, as: UTF8.self)
        #expect(script.contains("function sameOriginPath(value)"))
        #expect(script.contains("value.charAt(0) !== '/' || value.charAt(1) === '/'"))
        #expect(script.contains("window.location.assign(sameOriginPath(path) || DEFAULT_REDIRECT)"))
        // Dynamic text goes in with textContent only.
        #expect(!script.contains("innerHTML"))
        #expect(!script.contains("insertAdjacentHTML"))
        #expect(script.contains("credentials: 'same-origin'"))
    }
}
