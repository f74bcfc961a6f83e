/// Charts drawn on the server as SVG: no script, no external asset, so the dashboard works on an
/// office network without the internet.
enum Charts {
    static let palette = ["#1d4e89", "#f7c948", "#3ebd93", "#e66a6a", "#8e7cc3", "#52606d", "#f0b429"]

    /// One series of horizontal bars: a label and a value per row, the value printed at the bar's
    /// end; `maximum` fixes the scale (100% charts), else the largest value.
    static func bars(title: String, rows: [(label: String, value: Int, text: String)], maximum: Int? = nil, color: String = palette[0]) -> String {
        guard !rows.isEmpty else { return empty(title) }
        let labelWidth = 120, barWidth = 320, rowHeight = 26
        let height = rows.count * rowHeight + 36
        let top = max(maximum ?? 0, rows.map(\.value).max() ?? 0, 1)
        var svg = open(title: title, width: labelWidth + barWidth + 110, height: height)
        for (index, row) in rows.enumerated() {
            let y = 28 + index * rowHeight
            let width = Int((Double(row.value) / Double(top) * Double(barWidth)).rounded())
            svg += text(row.label, x: labelWidth - 8, y: y + 14, anchor: "end")
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"18\" fill=\"#f0f4f8\"/>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(max(width, row.value > 0 ? 2 : 0))\" height=\"18\" fill=\"\(color)\"><title>\(HTML.escape(row.label)): \(HTML.escape(row.text))</title></rect>"
            svg += text(row.text, x: labelWidth + barWidth + 6, y: y + 14, anchor: "start")
        }
        return svg + "</svg>"
    }

    /// Horizontal bars split into parts (in arrears / stopped, say), with a legend.
    static func stacked(title: String, series: [String], rows: [(label: String, values: [Int])]) -> String {
        guard !rows.isEmpty else { return empty(title) }
        let labelWidth = 120, barWidth = 320, rowHeight = 26
        let height = rows.count * rowHeight + 58
        let top = max(rows.map { $0.values.reduce(0, +) }.max() ?? 0, 1)
        var svg = open(title: title, width: labelWidth + barWidth + 80, height: height)
        for (index, name) in series.enumerated() {
            let x = labelWidth + index * 110
            svg += "<rect x=\"\(x)\" y=\"24\" width=\"12\" height=\"12\" fill=\"\(palette[index % palette.count])\"/>"
            svg += text(name, x: x + 16, y: 34, anchor: "start")
        }
        for (index, row) in rows.enumerated() {
            let y = 48 + index * rowHeight
            svg += text(row.label, x: labelWidth - 8, y: y + 14, anchor: "end")
            var x = labelWidth
            for (part, value) in row.values.enumerated() where value > 0 {
                let width = max(2, Int((Double(value) / Double(top) * Double(barWidth)).rounded()))
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"18\" fill=\"\(palette[part % palette.count])\"><title>\(HTML.escape(row.label)) \(HTML.escape(series[part])): \(value)</title></rect>"
                x += width
            }
            svg += text(String(row.values.reduce(0, +)), x: x + 6, y: y + 14, anchor: "start")
        }
        return svg + "</svg>"
    }

    /// Vertical columns over time (deposits per month), values labelled above the columns.
    static func columns(title: String, points: [(label: String, value: Int, text: String)]) -> String {
        guard !points.isEmpty else { return empty(title) }
        let shown = Array(points.suffix(18))
        let columnWidth = 46, chartHeight = 160, left = 10
        let width = left + shown.count * (columnWidth + 8) + 20
        let top = max(shown.map(\.value).max() ?? 0, 1)
        var svg = open(title: title, width: max(width, 320), height: chartHeight + 70)
        let base = chartHeight + 36
        svg += "<line x1=\"\(left)\" y1=\"\(base)\" x2=\"\(width - 10)\" y2=\"\(base)\" stroke=\"#9aa5b1\"/>"
        for (index, point) in shown.enumerated() {
            let x = left + index * (columnWidth + 8) + 4
            let height = Int((Double(point.value) / Double(top) * Double(chartHeight - 20)).rounded())
            svg += "<rect x=\"\(x)\" y=\"\(base - height)\" width=\"\(columnWidth)\" height=\"\(height)\" fill=\"\(palette[0])\"><title>\(HTML.escape(point.label)): \(HTML.escape(point.text))</title></rect>"
            svg += text(point.text, x: x + columnWidth / 2, y: base - height - 4, anchor: "middle", size: 10)
            svg += text(point.label, x: x + columnWidth / 2, y: base + 14, anchor: "middle", size: 10)
        }
        return svg + "</svg>"
    }

    static func open(title: String, width: Int, height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" aria-label=\"\(HTML.escape(title))\">"
            + "<text x=\"0\" y=\"14\" font-size=\"13\" font-weight=\"600\" fill=\"#334e68\">\(HTML.escape(title))</text>"
    }

    static func text(_ content: String, x: Int, y: Int, anchor: String, size: Int = 12) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"#1f2933\">\(HTML.escape(content))</text>"
    }

    static func empty(_ title: String) -> String {
        open(title: title, width: 320, height: 44) + text("—", x: 0, y: 36, anchor: "start") + "</svg>"
    }
}
