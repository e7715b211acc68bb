package io.sluice.mock;

/**
 * One Messages-mode answer, decided once from the request and the knobs, then rendered either as a
 * whole {@code message} object or as the event stream the real API sends. Keeping both renderings on
 * one decision means a streamed and a non-streamed answer to the same request always agree.
 *
 * <p>Content: {@code textTokens} text deltas of {@value Payloads#TOKEN}, then, when a tool is called,
 * one {@code tool_use} block whose input arrives as {@link AnthropicRequest.Tool#inputPieces()}. A
 * forced call (tool_choice any or tool) has no text block. {@code max_tokens} bounds the deltas: text
 * beyond it is cut, a tool call that does not fit is dropped, and the stop reason is then
 * {@code max_tokens}. output_tokens is the number of deltas unless {@code mock.usage} says otherwise.
 */
final class AnthropicReply {
  final String id;
  final String model;
  final int textTokens;
  /** The called tool and its block id, or null. */
  final AnthropicRequest.Tool tool;
  final String toolId;
  final String stopReason;
  final long inputTokens;
  final long cacheCreation;
  final long cacheRead;
  final long outputTokens;

  // stream cursor
  private Phase phase = Phase.MESSAGE_START;
  private int inPhase;
  private int deltas;
  private boolean lastWasDelta;

  private enum Phase { MESSAGE_START, TEXT_START, PING, TEXT, TEXT_STOP, TOOL_START, TOOL, TOOL_STOP, MESSAGE_DELTA, MESSAGE_STOP, DONE }

  AnthropicReply(String id, String toolId, AnthropicRequest r, int tokens) throws MockRequest.Invalid {
    this.id = id;
    this.model = r.model;
    AnthropicRequest.Tool chosen = r.chosenTool();
    long budget = r.maxTokens;
    int text = chosen != null && r.toolForced() ? 0 : tokens;
    String stop;
    if (text > budget) {
      text = (int) budget;
      chosen = null;
      stop = "max_tokens";
    } else if (chosen != null && text + (long) chosen.inputPieces().size() > budget) {
      chosen = null;
      stop = "max_tokens";
    } else {
      stop = chosen != null ? "tool_use" : "end_turn";
    }
    this.textTokens = text;
    this.tool = chosen;
    this.toolId = chosen == null ? null : toolId;
    this.stopReason = stop;
    MockRequest k = r.knobs;
    this.inputTokens = k.usageInput >= 0 ? k.usageInput : r.inputTokens();
    this.cacheCreation = Math.max(0, k.usageCacheCreation);
    this.cacheRead = Math.max(0, k.usageCacheRead);
    this.outputTokens = k.usageOutput >= 0 ? k.usageOutput : totalDeltas();
  }

  int totalDeltas() {
    return textTokens + (tool == null ? 0 : tool.inputPieces().size());
  }

  /** The whole {@code message} object of a non-streaming answer. */
  String message() {
    StringBuilder sb = new StringBuilder(256 + textTokens * Payloads.TOKEN.length());
    sb.append("{\"id\":\"").append(id).append("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    Json.str(sb, model).append(",\"content\":[");
    if (textTokens > 0) {
      sb.append("{\"type\":\"text\",\"text\":\"").append(Payloads.TOKEN.repeat(textTokens)).append("\"}");
    }
    if (tool != null) {
      sb.append(textTokens > 0 ? "," : "");
      toolBlock(sb, true);
    }
    sb.append("],\"stop_reason\":\"").append(stopReason).append("\",\"stop_sequence\":null,\"usage\":");
    return usage(sb, outputTokens).append('}').toString();
  }

  /** Whether the next event of the stream is a content delta (the unit that the stream knobs count). */
  boolean atDelta() {
    return (phase == Phase.TEXT && inPhase < textTokens) || (phase == Phase.TOOL && inPhase < tool.inputPieces().size());
  }

  /** Content deltas sent so far. */
  int deltas() {
    return deltas;
  }

  boolean lastWasDelta() {
    return lastWasDelta;
  }

  /** The next event of the stream, {@code event:} line included, or null after {@code message_stop}. */
  String next() {
    lastWasDelta = false;
    while (true) {
      switch (phase) {
        case MESSAGE_START -> {
          phase = textTokens > 0 ? Phase.TEXT_START : tool != null ? Phase.TOOL_START : Phase.PING;
          StringBuilder sb = new StringBuilder(320).append("event: message_start\ndata: {\"type\":\"message_start\",")
              .append("\"message\":{\"id\":\"").append(id)
              .append("\",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
          Json.str(sb, model).append(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
          // like the real API: the input side in full, output_tokens only as a first count
          return usage(sb, Math.min(1, outputTokens)).append("}}\n\n").toString();
        }
        case TEXT_START -> {
          phase = Phase.PING;
          return "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
              + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
        }
        case PING -> {
          phase = textTokens > 0 ? Phase.TEXT : tool != null ? Phase.TOOL : Phase.MESSAGE_DELTA;
          return PING_EVENT;
        }
        case TEXT -> {
          if (inPhase == textTokens) {
            phase = Phase.TEXT_STOP;
            continue;
          }
          inPhase++;
          deltas++;
          lastWasDelta = true;
          return TEXT_DELTA_EVENT;
        }
        case TEXT_STOP -> {
          phase = tool != null ? Phase.TOOL_START : Phase.MESSAGE_DELTA;
          inPhase = 0;
          return "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
        }
        case TOOL_START -> {
          boolean first = textTokens == 0;
          phase = first ? Phase.PING : Phase.TOOL;
          StringBuilder sb = new StringBuilder(192).append("event: content_block_start\ndata: ")
              .append("{\"type\":\"content_block_start\",\"index\":").append(toolIndex()).append(",\"content_block\":");
          return toolBlock(sb, false).append("}\n\n").toString();
        }
        case TOOL -> {
          if (inPhase == tool.inputPieces().size()) {
            phase = Phase.TOOL_STOP;
            continue;
          }
          StringBuilder sb = new StringBuilder(160).append("event: content_block_delta\ndata: ")
              .append("{\"type\":\"content_block_delta\",\"index\":").append(toolIndex())
              .append(",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":");
          Json.str(sb, tool.inputPieces().get(inPhase++)).append("}}\n\n");
          deltas++;
          lastWasDelta = true;
          return sb.toString();
        }
        case TOOL_STOP -> {
          phase = Phase.MESSAGE_DELTA;
          return "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":" + toolIndex() + "}\n\n";
        }
        case MESSAGE_DELTA -> {
          phase = Phase.MESSAGE_STOP;
          StringBuilder sb = new StringBuilder(224).append("event: message_delta\ndata: {\"type\":\"message_delta\",")
              .append("\"delta\":{\"stop_reason\":\"").append(stopReason).append("\",\"stop_sequence\":null},\"usage\":");
          return usage(sb, outputTokens).append("}\n\n").toString();
        }
        case MESSAGE_STOP -> {
          phase = Phase.DONE;
          return "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        }
        case DONE -> {
          return null;
        }
        default -> throw new AssertionError(phase);
      }
    }
  }

  static final String PING_EVENT = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
  static final String TEXT_DELTA_EVENT = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
      + "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + Payloads.TOKEN + "\"}}\n\n";

  /** An {@code event: error} as the API sends mid-stream, e.g. type overloaded_error. */
  static String errorEvent(String type, String message) {
    StringBuilder sb = new StringBuilder(128).append("event: error\ndata: ");
    return sb.append(Json.anthropicError(type, message, null)).append("\n\n").toString();
  }

  private int toolIndex() {
    return textTokens > 0 ? 1 : 0;
  }

  /** A tool_use block; whole: with its input, else as content_block_start opens it ({@code "input":{}}). */
  private StringBuilder toolBlock(StringBuilder sb, boolean whole) {
    sb.append("{\"type\":\"tool_use\",\"id\":\"").append(toolId).append("\",\"name\":");
    Json.str(sb, tool.name()).append(",\"input\":");
    if (!whole) {
      return sb.append("{}}");
    }
    for (String piece : tool.inputPieces()) {
      sb.append(piece);
    }
    return sb.append('}');
  }

  private StringBuilder usage(StringBuilder sb, long output) {
    return sb.append("{\"input_tokens\":").append(inputTokens).append(",\"cache_creation_input_tokens\":")
        .append(cacheCreation).append(",\"cache_read_input_tokens\":").append(cacheRead)
        .append(",\"output_tokens\":").append(output).append('}');
  }
}
