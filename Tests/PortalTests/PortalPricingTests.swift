import Foundation
import Policy
import Portal
import Testing

/// The pricing page states exactly what the policy says: nothing is hard-coded.
@Suite("Pricing page: plans and operation prices come from the policy")
struct PortalPricingTests {
    @Test("The default policy: every plan with allowance and rollover, the default marked, every price")
    func defaultPolicy() throws {
        let policy = try loadPolicy()
        let html = try PortalSite(policy: policy).render(.pricing(PricingPage())).html
        for plan in policy.plans.plans.values {
            #expect(html.contains("data-plan=\"\(plan.name)\""))
        }
        #expect(html.contains("<h3>Professional</h3>\n<p class=\"plan-tokens\"><span class=\"stat-value\">10,000</span> tokens per month</p>"))
        #expect(html.contains("Unused tokens roll over, up to a balance of 20,000."))
        #expect(html.contains("Unused tokens expire at the end of each month."))
        #expect(html.occurrences(of: "Default for new accounts") == 1)
        #expect(try html.matches(of: "data-plan=\"free\">(?:(?!</li>).)*Default for new accounts").count == 1)
        for (operation, price) in policy.operationPrices {
            let row = try html.matches(of: "<tr data-operation=\"\(operation)\">\\s*<th scope=\"row\">[^<]+<code>\(operation)</code></th>\\s*<td class=\"num\">([^<]+)</td>\\s*<td>([^<]+)</td>")
            #expect(row.first?[1] == "\(price)", "\(operation)")
        }
        // Generation operations (chosen by the generation rules) are charged per image.
        #expect(try html.matches(of: "<code>generative_upscale</code></th>\\s*<td class=\"num\">80</td>\\s*<td>per request</td>").count == 1)
        #expect(try html.matches(of: "<code>vector_generation</code></th>\\s*<td class=\"num\">8</td>\\s*<td>per image</td>").count == 1)
        #expect(html.contains("up to 6 images per request"))
        // Plans in order of allowance.
        let order = try html.matches(of: "data-plan=\"([a-z]+)\"").map { $0[1] }
        #expect(order == ["free", "basic", "professional"])
    }

    @Test("A modified policy (new price, new plan, other default, other image limit) shows up on the page")
    func modifiedPolicy() throws {
        let yaml = try defaultPolicyYAML()
            .replacingOccurrences(of: "  generative_upscale: 80\n", with: "  generative_upscale: 123\n  sketch_cleanup: 17\n")
            .replacingOccurrences(of: "  default: free\n", with: "  default: starter\n")
            .replacingOccurrences(of: "  catalog:\n", with: "  catalog:\n    starter:\n      monthly_tokens: 4321\n    enterprise:\n      monthly_tokens: 1234567\n      rollover: true\n")
            .replacingOccurrences(of: "  max_images: 6 ", with: "  max_images: 9 ")
        let policy = try loadPolicy(yaml)
        #expect(policy.operationPrices["generative_upscale"] == 123)
        #expect(policy.plans.defaultPlan == "starter")

        let site = try PortalSite(policy: policy)
        let html = site.render(.pricing(PricingPage())).html
        #expect(try html.matches(of: "<code>generative_upscale</code></th>\\s*<td class=\"num\">123</td>").count == 1)
        #expect(!html.contains("<td class=\"num\">80</td>"))
        #expect(try html.matches(of: "<tr data-operation=\"sketch_cleanup\">\\s*<th scope=\"row\">Sketch cleanup <code>sketch_cleanup</code></th>\\s*<td class=\"num\">17</td>").count == 1)
        #expect(html.contains("<h3>Starter</h3>\n<p class=\"plan-tokens\"><span class=\"stat-value\">4,321</span>"))
        #expect(html.contains("<span class=\"stat-value\">1,234,567</span>"))
        #expect(html.contains("Unused tokens roll over with no cap."))
        #expect(try html.matches(of: "data-plan=\"starter\">(?:(?!</li>).)*Default for new accounts").count == 1)
        #expect(try html.matches(of: "data-plan=\"free\">(?:(?!</li>).)*Default for new accounts").isEmpty)
        #expect(html.contains("up to 9 images per request"))

        // The other pages read the same catalog: sign-up names the new default, admin offers the new plans.
        #expect(site.render(.signUp(SignUpPage())).html.contains("on the Starter plan with 4,321 tokens a month"))
        let admin = Viewer(id: UserID(rawValue: 1), email: "root@example.com", role: .admin, plan: "enterprise")
        let adminPage = site.render(.admin(AdminPage(viewer: admin))).html
        #expect(adminPage.contains("<option value=\"enterprise\">Enterprise</option>"))
        #expect(adminPage.contains("<option value=\"starter\">Starter</option>"))
    }

    @Test("Signed in, the viewer's own plan is marked")
    func currentPlan() throws {
        let site = try PortalSite(policy: try loadPolicy())
        let viewer = Viewer(id: UserID(rawValue: 3), email: "pro@example.com", role: .user, plan: "professional")
        let html = site.render(.pricing(PricingPage(viewer: viewer))).html
        #expect(try html.matches(of: "data-plan=\"professional\">(?:(?!</li>).)*Your plan").count == 1)
        #expect(html.occurrences(of: "Your plan") == 1)
    }
}
