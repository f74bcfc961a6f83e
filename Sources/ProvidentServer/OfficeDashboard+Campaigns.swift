import Foundation
import Hummingbird
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// Campaigns to regularise payments on the dashboard: each campaign's phases (the current one
/// marked), and per branch its targets and how far the field has got, overall and per phase.
extension OfficeDashboard {
    func addCampaignRoutes(to group: RouterGroup<OfficeContext>) {
        group.get("campaigns", use: campaignsPage)
    }

    @Sendable func campaignsPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), l = session.language
        let today = now().shanghaiDate
        let campaigns = try await core.campaignProgress(today: today)
        var body = Body(heading: l.pick("Campaigns", "专项行动") + " (\(campaigns.count))")
        body.asof = l.pick("As of ", "截至 ") + today.iso
        body.links = [(l.pick("The report and its CSV", "报表及 CSV 下载"), "/office/reports/campaign")]
        if campaigns.isEmpty {
            body.panels = [.init(paragraphs: [l.pick(
                "No campaign yet. Create one with its cut-off date and phases: provident-server campaign create (see --help). Its targets are the employers in arrears or stopped on the cut-off date, and field laptops receive it at their next sync.",
                "尚无专项行动。请用 provident-server campaign create 创建，指定截止日期和各阶段（详见 --help）。目标为截止日欠缴或停缴的单位；外勤电脑下次同步即可收到。")])]
        }
        for (campaign, progress) in campaigns {
            let phases = campaign.phases.map { phase -> [Cell] in
                let now = today >= phase.from && today <= phase.to
                let state = today < phase.from ? l.pick("to come", "未开始") : today > phase.to ? l.pick("over", "已结束") : l.pick("now", "进行中")
                return [[.text(phase.name)], [.text(phase.from.iso)], [.text(phase.to.iso)], [.tag(state, kind: now ? "ok" : "")]]
            }
            let chart = Self.surveyedChart(title: l.pick("Targets surveyed, by branch", "各管理部摸底进度"),
                                           rows: progress.map { ($0.branch, $0.surveyed, $0.targets, $0.complied) }, l)
            let branches = progress.map { p -> [Cell] in
                [[.text(p.branch)]] + [p.targets, p.surveyed, p.letterServed, p.interviewed, p.complied, p.applied, p.refused].map { [.number(String($0))] }
            }
            let perPhase = progress.flatMap { p in
                zip(campaign.phases, p.phases).map { phase, figures -> [Cell] in
                    [[.text(p.branch)], [.text(phase.name)]] + [figures.visited, figures.letterServed, figures.interviewed, figures.applied].map { [.number(String($0))] }
                }
            }
            let note = l.pick("Employers owing as of ", "以欠缴截止日 ") + "\(campaign.cutoff.iso) · \(campaign.start.iso) – \(campaign.end.iso)"
            body.panels.append(.init(title: campaign.name, note: note,
                                     paragraphs: progress.isEmpty ? [l.pick("No employer was in arrears or stopped on the cut-off date, so this campaign has no targets.",
                                                                            "截止日没有欠缴或停缴的单位，本专项行动没有目标单位。")] : [],
                                     content: HTML.facts([(l.pick("Campaign", "编号"), [.text(campaign.id + " · "), Self.historyLink(campaign.recordKey, l)])])
                                         + HTML.table(headers: [l.pick("Phase", "阶段"), l.pick("From", "开始"), l.pick("To", "结束"), l.pick("State", "状态")], rows: phases)
                                         + (progress.isEmpty ? "" : chart)))
            body.panels.append(.init(title: campaign.name + l.pick(": by branch", "：各管理部"), content: HTML.table(
                headers: [l.pick("Branch", "管理部"), l.pick("Targets", "目标单位"), l.pick("Surveyed", "已摸底"), l.pick("Letter served", "已送达文书"),
                          l.pick("Interviewed", "已约谈"), l.pick("Complied", "已整改"), l.pick("Applied", "已申请"), l.pick("Refused", "拒绝")], rows: branches)))
            body.panels.append(.init(title: campaign.name + l.pick(": by phase", "：各阶段"), content: HTML.table(
                headers: [l.pick("Branch", "管理部"), l.pick("Phase", "阶段"), l.pick("Visited", "走访单位"), l.pick("Letter served", "送达文书"),
                          l.pick("Interviewed", "约谈"), l.pick("Applied", "申请")], rows: perPhase)))
        }
        return page(l, title: l.pick("Campaigns", "专项行动"), body: body.rendered, session: session, current: "/office/campaigns")
    }
}
