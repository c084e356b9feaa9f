/// `Accept` header values as a client's ordered list of media types.
public enum AcceptHeader {
    /// Splits every value on commas, strips parameters, lowercases, drops
    /// entries with `q=0`, drops duplicates, keeps the client's order.
    public static func mediaTypes(_ headerValues: [String]) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        for value in headerValues {
            // Split on bytes, not Characters: a prepended mark such as U+06DD
            // forms one grapheme with a following ',' or ';' and hid it.
            for item in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                let fields = item.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).map(Substring.init)
                guard let head = fields.first else { continue }
                let type = ASCII.trim(head).lowercased()
                if type.isEmpty { continue }
                if fields.dropFirst().contains(where: isZeroQuality) { continue }
                if seen.insert(type).inserted { result.append(type) }
            }
        }
        return result
    }

    private static func isZeroQuality(_ param: Substring) -> Bool {
        let kv = param.utf8.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            .map(Substring.init)
        guard kv.count == 2, ASCII.trim(kv[0]).lowercased() == "q" else { return false }
        let v = ASCII.trim(kv[1]).utf8
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        guard v.first == UInt8(ascii: "0") else { return false }
        let rest = v.dropFirst()
        if rest.isEmpty { return true }
        guard rest.first == UInt8(ascii: ".") else { return false }
        return rest.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") }
    }
}
