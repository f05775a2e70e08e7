/// The guest profile's outputs: a flame graph (SVG, opened by any browser; one box per
/// function on a stack, as wide as the share of samples in it, callers below callees) and
/// speedscope's file format (https://www.speedscope.app, its "sampled" profile), which
/// speedscope and the Firefox profiler open.
extension GuestProfile {
    /// A node of the merged stacks: a frame, the samples through it, its callees.
    private final class Node {
        let frame: Int
        var count = 0
        var children: [Int: Node] = [:]
        init(frame: Int) { self.frame = frame }
    }

    private func tree() -> Node {
        let root = Node(frame: -1)
        for stack in samples {
            root.count += 1
            var node = root
            for f in stack {
                if let child = node.children[f] {
                    node = child
                } else {
                    let child = Node(frame: f)
                    node.children[f] = child
                    node = child
                }
                node.count += 1
            }
        }
        return root
    }

    /// A frame's label: `NAME [TIER]`.
    public func label(_ frame: Int) -> String {
        "\(frames[frame].function) [\(frames[frame].tier.rawValue)]"
    }

    /// The flame graph as a self-contained SVG document (no scripts): the root ("all") at the
    /// bottom, each box's width its share of samples, callees above callers sorted by name,
    /// colored by tier, and a tooltip (`<title>`) with the function, module, tier and share.
    public func flameGraphSVG(title: String = "Strata guest profile", width: Int = 1200) -> String {
        let root = tree()
        let rowHeight = 17, top = 56, bottom = 24
        func depth(_ n: Node) -> Int { 1 + (n.children.values.map(depth).max() ?? 0) }
        let rows = depth(root)
        let height = top + rows * rowHeight + bottom
        let total = max(root.count, 1)
        let scale = Double(width - 20) / Double(total)
        var svg = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Verdana, sans-serif" font-size="12">
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#f8f8f4"/>
            <text x="\(width / 2)" y="22" text-anchor="middle" font-size="16">\(xmlEscaped(title))</text>
            <text x="10" y="42" fill="#444">\(samples.count) samples every \(intervalText)\(droppedSamples > 0 ? ", \(droppedSamples) dropped" : "")</text>

            """
        // The legend: one swatch per tier.
        var lx = width - 10
        for tier in [Tier.interpreter, .baseline, .optimizing] {
            let text = tier.rawValue
            lx -= 14 + 8 * text.count
            svg += "<rect x=\"\(lx)\" y=\"32\" width=\"10\" height=\"10\" fill=\"\(color(tier: tier, name: text))\"/>"
            svg += "<text x=\"\(lx + 14)\" y=\"42\" fill=\"#444\">\(text)</text>\n"
        }
        func emit(_ node: Node, x: Double, level: Int) {
            let w = Double(node.count) * scale
            let y = height - bottom - (level + 1) * rowHeight
            let name: String, tooltip: String, fill: String
            if node.frame < 0 {
                name = "all"
                tooltip = "all: \(node.count) samples"
                fill = "#d0d0c8"
            } else {
                let f = frames[node.frame]
                name = label(node.frame)
                let share = Double(node.count) * 100 / Double(total)
                tooltip = "\(f.function) (\(f.module.map { "module \($0), " } ?? "")function \(f.functionIndex), \(f.tier.rawValue)): \(node.count) samples, \(percent(share))"
                fill = color(tier: f.tier, name: f.function)
            }
            svg += "<g><title>\(xmlEscaped(tooltip))</title>"
            svg += "<rect x=\"\(fixed(x + 10))\" y=\"\(y)\" width=\"\(fixed(max(w - 0.5, 0.1)))\" height=\"\(rowHeight - 1)\" rx=\"2\" fill=\"\(fill)\"/>"
            let fits = Int((w - 6) / 7)
            if fits >= 3 {
                let text = name.count <= fits ? name : String(name.prefix(fits - 2)) + ".."
                svg += "<text x=\"\(fixed(x + 13))\" y=\"\(y + rowHeight - 5)\">\(xmlEscaped(text))</text>"
            }
            svg += "</g>\n"
            var cx = x
            for child in node.children.values.sorted(by: { label($0.frame) < label($1.frame) }) {
                emit(child, x: cx, level: level + 1)
                cx += Double(child.count) * scale
            }
        }
        emit(root, x: 0, level: 0)
        svg += "</svg>\n"
        return svg
    }

    /// The profile in speedscope's file format: one "sampled" profile, stacks outermost first,
    /// each weighing the interval in milliseconds.
    public func speedscopeJSON(name: String = "Strata guest profile") -> String {
        let ms = Double(interval.components.seconds) * 1000 + Double(interval.components.attoseconds) / 1e15
        var json = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"strata\",\"name\":\(jsonString(name)),"
        json += "\"activeProfileIndex\":0,\"shared\":{\"frames\":["
        json += frames.indices.map { k in
            "{\"name\":\(jsonString(label(k)))\(frames[k].module.map { ",\"file\":\(jsonString($0))" } ?? "")}"
        }.joined(separator: ",")
        json += "]},\"profiles\":[{\"type\":\"sampled\",\"name\":\(jsonString(name)),\"unit\":\"milliseconds\",\"startValue\":0,"
        json += "\"endValue\":\(Double(samples.count) * ms),\"samples\":["
        json += samples.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
        json += "],\"weights\":["
        json += Array(repeating: "\(ms)", count: samples.count).joined(separator: ",")
        json += "]}]}\n"
        return json
    }

    private var intervalText: String {
        let us = interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000
        return us % 1000 == 0 ? "\(us / 1000) ms" : "\(us) µs"
    }

    /// Warm hues per tier (optimizing red, baseline orange, interpreter yellow-green), the
    /// shade varying with the name so neighbours differ.
    private func color(tier: Tier, name: String) -> String {
        var h: UInt32 = 2166136261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16777619 }
        let v = Int(h % 40)
        switch tier {
        case .optimizing: return "rgb(\(215 + v),\(80 + v),\(60 + v / 2))"
        case .baseline: return "rgb(\(225 + v / 2),\(150 + v),\(50 + v / 2))"
        default: return "rgb(\(170 + v),\(200 + v / 2),\(90 + v))"
        }
    }

    private func fixed(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    private func percent(_ v: Double) -> String {
        "\((v * 10).rounded() / 10)%"
    }

    private func xmlEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // Characters XML 1.0 does not allow (controls other than tab and newline).
                if let a = c.asciiValue, a < 0x20, a != 9, a != 10 { out += "?" } else { out.append(c) }
            }
        }
        return out
    }

    private func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
