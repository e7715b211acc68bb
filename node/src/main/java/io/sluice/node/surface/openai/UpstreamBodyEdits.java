package io.sluice.node.surface.openai;

import io.sluice.node.api.OpenAiError;

/**
 * The edits of an OpenAI request body on its way upstream, in place at the offsets {@link
 * RequestScan} found: the model name swapped, {@code stream_options} forced. It exists apart from
 * the scan so that what is rewritten changes in one place, not with what is checked; every byte it
 * does not edit is forwarded as the client sent it.
 */
final class UpstreamBodyEdits {
  /**
   * The body to send upstream: the model value replaced by {@code upstreamModel} when it differs,
   * and, when {@code forceUsage}, {@code stream_options} set to {@code {"include_usage":true}} so
   * the upstream reports a stream's usage (Sluice needs it to charge the stream, and strips the
   * usage chunk again when the client did not ask for it). Every other byte is kept; the body
   * itself is returned when nothing changes.
   */
  static byte[] forUpstream(RequestScan scan, byte[] body, String upstreamModel, boolean forceUsage) {
    byte[] out = body;
    boolean usageEdit = forceUsage && !scan.includeUsage();
    boolean modelEdit = !upstreamModel.equals(scan.model());
    byte[] options = "{\"include_usage\":true}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] field = "\"stream_options\":{\"include_usage\":true},".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int usageFrom = scan.streamOptionsStart() >= 0 ? scan.streamOptionsStart() : scan.objectStart() + 1;
    int usageTo = scan.streamOptionsStart() >= 0 ? scan.streamOptionsEnd() : scan.objectStart() + 1;
    byte[] usageBytes = scan.streamOptionsStart() >= 0 ? options : field;
    // Apply the later edit first, so the earlier one's offsets still hold.
    if (usageEdit && usageFrom >= scan.modelEnd()) {
      out = splice(out, usageFrom, usageTo, usageBytes);
      usageEdit = false;
    }
    if (modelEdit) {
      out = splice(out, scan.modelStart(), scan.modelEnd(), OpenAiError.quote(upstreamModel));
    }
    if (usageEdit) {
      out = splice(out, usageFrom, usageTo, usageBytes);
    }
    return out;
  }

  private static byte[] splice(byte[] body, int from, int to, byte[] insert) {
    byte[] out = new byte[body.length - (to - from) + insert.length];
    System.arraycopy(body, 0, out, 0, from);
    System.arraycopy(insert, 0, out, from, insert.length);
    System.arraycopy(body, to, out, from + insert.length, body.length - to);
    return out;
  }

  /**
   * The body with the model value replaced by {@code upstreamModel}, copying the bytes once; the
   * body itself when the names are equal.
   */
  static byte[] withModel(RequestScan scan, byte[] body, String upstreamModel) {
    if (upstreamModel.equals(scan.model())) {
      return body;
    }
    return splice(body, scan.modelStart(), scan.modelEnd(), OpenAiError.quote(upstreamModel));
  }

  private UpstreamBodyEdits() {}
}
