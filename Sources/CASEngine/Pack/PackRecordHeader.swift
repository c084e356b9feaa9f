// Placeholder until the pack layer lands; see FORMAT.md.
public enum PackRecordHeader { public static let size = 128 }
