package io.sluice.mock;

import java.util.List;

/**
 * One Responses-mode answer, decided once from the request and the knobs, then rendered either as
 * the whole {@code response} object or as the event stream the real API sends ({@code event:}
 * lines, every event with its {@code sequence_number}). Like {@link AnthropicReply}: a message of
 * {@code textTokens} output_text deltas of {@value Payloads#TOKEN}, then, when a tool is called, one
 * {@code function_call} item whose arguments arrive in pieces; a forced call (tool_choice required
 * or a function) has no message. {@code max_output_tokens} bounds the deltas: text beyond it is
 * cut, a call that does not fit is dropped, and the response is then {@code incomplete} with
 * reason {@code max_output_tokens}. output_tokens is the number of deltas unless {@code mock.usage}
 * says otherwise.
 */
final class ResponsesReply {
  final String id;
  final String model;
  final long createdAt;
  final int textTokens;
  final AnthropicRequest.Tool tool;
  /** The call's argument pieces, one per delta (empty pieces left out). */
  final List<String> pieces;
  final String status;
  final long inputTokens;
  final long outputTokens;
  private final long n;

  private Phase phase = Phase.CREATED;
  private int inPhase;
  private int deltas;
  private int sequence;
  private boolean lastWasDelta;

  private enum Phase {
    CREATED, IN_PROGRESS, MSG_ADDED, PART_ADDED, TEXT, TEXT_DONE, PART_DONE, MSG_DONE, FC_ADDED, ARGS, ARGS_DONE,
    FC_DONE, COMPLETED, DONE
  }

  ResponsesReply(long n, ResponsesModeRequest r, int tokens) throws MockRequest.Invalid {
    this.n = n;
    this.id = "resp_mock_" + n;
    this.model = r.model;
    this.createdAt = System.currentTimeMillis() / 1000;
    AnthropicRequest.Tool chosen = r.chosenTool();
    List<String> args = chosen == null ? List.of() : chosen.inputPieces().stream().filter(s -> !s.isEmpty()).toList();
    long budget = r.maxOutputTokens < 0 ? Long.MAX_VALUE : r.maxOutputTokens;
    int text = chosen != null && r.toolForced() ? 0 : tokens;
    boolean cut = false;
    if (text > budget) {
      text = (int) budget;
      chosen = null;
      cut = true;
    } else if (chosen != null && text + (long) args.size() > budget) {
      chosen = null;
      cut = true;
    }
    this.textTokens = text;
    this.tool = chosen;
    this.pieces = chosen == null ? List.of() : args;
    this.status = cut ? "incomplete" : "completed";
    MockRequest k = r.knobs;
    this.inputTokens = k.usageInput >= 0 ? k.usageInput : r.inputTokens();
    this.outputTokens = k.usageOutput >= 0 ? k.usageOutput : totalDeltas();
  }

  int totalDeltas() {
    return textTokens + pieces.size();
  }

  private boolean hasMessage() {
    return textTokens > 0 || tool == null;
  }

  private int toolIndex() {
    return hasMessage() ? 1 : 0;
  }

  private String messageId() {
    return "msg_mock_" + n;
  }

  private String callItemId() {
    return "fc_mock_" + n;
  }

  /** The whole response object of a non-streaming answer. */
  String response() {
    return response(status, true, true);
  }

  boolean atDelta() {
    return (phase == Phase.TEXT && inPhase < textTokens) || (phase == Phase.ARGS && inPhase < pieces.size());
  }

  int deltas() {
    return deltas;
  }

  boolean lastWasDelta() {
    return lastWasDelta;
  }

  /** The next event of the stream, {@code event:} line included, or null after the closing one. */
  String next() {
    lastWasDelta = false;
    while (true) {
      switch (phase) {
        case CREATED -> {
          phase = Phase.IN_PROGRESS;
          return event("response.created", "\"response\":" + response("in_progress", false, false));
        }
        case IN_PROGRESS -> {
          phase = hasMessage() ? Phase.MSG_ADDED : Phase.FC_ADDED;
          return event("response.in_progress", "\"response\":" + response("in_progress", false, false));
        }
        case MSG_ADDED -> {
          phase = Phase.PART_ADDED;
          return event("response.output_item.added", "\"output_index\":0,\"item\":" + message("in_progress", ""));
        }
        case PART_ADDED -> {
          phase = Phase.TEXT;
          return event("response.content_part.added", partFields() + ",\"part\":" + textPart(""));
        }
        case TEXT -> {
          if (inPhase == textTokens) {
            phase = Phase.TEXT_DONE;
            inPhase = 0;
            continue;
          }
          inPhase++;
          deltas++;
          lastWasDelta = true;
          return event("response.output_text.delta", partFields() + ",\"delta\":\"" + Payloads.TOKEN
              + "\",\"logprobs\":[]");
        }
        case TEXT_DONE -> {
          phase = Phase.PART_DONE;
          return event("response.output_text.done", partFields() + ",\"text\":\"" + text() + "\",\"logprobs\":[]");
        }
        case PART_DONE -> {
          phase = Phase.MSG_DONE;
          return event("response.content_part.done", partFields() + ",\"part\":" + textPart(text()));
        }
        case MSG_DONE -> {
          phase = tool != null ? Phase.FC_ADDED : Phase.COMPLETED;
          return event("response.output_item.done", "\"output_index\":0,\"item\":" + message("completed", text()));
        }
        case FC_ADDED -> {
          phase = Phase.ARGS;
          return event("response.output_item.added", "\"output_index\":" + toolIndex() + ",\"item\":"
              + call("in_progress", ""));
        }
        case ARGS -> {
          if (inPhase == pieces.size()) {
            phase = Phase.ARGS_DONE;
            inPhase = 0;
            continue;
          }
          StringBuilder sb = new StringBuilder(96).append("\"item_id\":\"").append(callItemId())
              .append("\",\"output_index\":").append(toolIndex()).append(",\"delta\":");
          Json.str(sb, pieces.get(inPhase++));
          deltas++;
          lastWasDelta = true;
          return event("response.function_call_arguments.delta", sb.toString());
        }
        case ARGS_DONE -> {
          phase = Phase.FC_DONE;
          StringBuilder sb = new StringBuilder(96).append("\"item_id\":\"").append(callItemId())
              .append("\",\"output_index\":").append(toolIndex()).append(",\"name\":");
          Json.str(sb, tool.name()).append(",\"arguments\":");
          Json.str(sb, String.join("", pieces));
          return event("response.function_call_arguments.done", sb.toString());
        }
        case FC_DONE -> {
          phase = Phase.COMPLETED;
          return event("response.output_item.done", "\"output_index\":" + toolIndex() + ",\"item\":"
              + call("completed", String.join("", pieces)));
        }
        case COMPLETED -> {
          phase = Phase.DONE;
          return event(status.equals("completed") ? "response.completed" : "response.incomplete",
              "\"response\":" + response(status, true, true));
        }
        case DONE -> {
          return null;
        }
        default -> throw new AssertionError(phase);
      }
    }
  }

  /** The API's mid-stream {@code error} event, numbered as the next event of this stream. */
  String errorEvent(String code, String message) {
    StringBuilder sb = new StringBuilder(128).append("\"code\":");
    Json.str(sb, code).append(",\"message\":");
    Json.str(sb, message).append(",\"param\":null");
    return event("error", sb.toString());
  }

  private String event(String type, String fields) {
    return "event: " + type + "\ndata: {\"type\":\"" + type + "\"," + fields + ",\"sequence_number\":"
        + (sequence++) + "}\n\n";
  }

  private String partFields() {
    return "\"item_id\":\"" + messageId() + "\",\"output_index\":0,\"content_index\":0";
  }

  private String text() {
    return Payloads.TOKEN.repeat(textTokens);
  }

  private static String textPart(String text) {
    return "{\"type\":\"output_text\",\"text\":\"" + text + "\",\"annotations\":[],\"logprobs\":[]}";
  }

  private String message(String itemStatus, String text) {
    return "{\"id\":\"" + messageId() + "\",\"type\":\"message\",\"status\":\"" + itemStatus
        + "\",\"role\":\"assistant\",\"content\":[" + (text.isEmpty() && itemStatus.equals("in_progress") ? ""
        : textPart(text)) + "]}";
  }

  private String call(String itemStatus, String arguments) {
    StringBuilder sb = new StringBuilder(128).append("{\"id\":\"").append(callItemId())
        .append("\",\"type\":\"function_call\",\"status\":\"").append(itemStatus).append("\",\"call_id\":\"call_mock_")
        .append(n).append("\",\"name\":");
    Json.str(sb, tool.name()).append(",\"arguments\":");
    return Json.str(sb, arguments).append('}').toString();
  }

  /** The response object: its output only once done, its usage only when {@code withUsage}. */
  private String response(String responseStatus, boolean withOutput, boolean withUsage) {
    StringBuilder sb = new StringBuilder(640 + textTokens * Payloads.TOKEN.length());
    sb.append("{\"id\":\"").append(id).append("\",\"object\":\"response\",\"created_at\":").append(createdAt)
        .append(",\"status\":\"").append(responseStatus).append("\",\"background\":false,\"error\":null,")
        .append("\"incomplete_details\":")
        .append(responseStatus.equals("incomplete") ? "{\"reason\":\"max_output_tokens\"}" : "null")
        .append(",\"instructions\":null,\"max_output_tokens\":null,\"metadata\":{},\"model\":");
    Json.str(sb, model).append(",\"output\":[");
    if (withOutput) {
      if (hasMessage()) {
        sb.append(message("completed", text()));
      }
      if (tool != null) {
        sb.append(hasMessage() ? "," : "").append(call("completed", String.join("", pieces)));
      }
    }
    sb.append("],\"parallel_tool_calls\":true,\"previous_response_id\":null,\"store\":true,\"temperature\":1.0,")
        .append("\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,")
        .append("\"truncation\":\"disabled\",\"usage\":");
    if (!withUsage) {
      sb.append("null");
    } else {
      sb.append("{\"input_tokens\":").append(inputTokens).append(",\"input_tokens_details\":{\"cached_tokens\":0},")
          .append("\"output_tokens\":").append(outputTokens)
          .append(",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":")
          .append(inputTokens + outputTokens).append('}');
    }
    return sb.append(",\"user\":null}").toString();
  }
}
