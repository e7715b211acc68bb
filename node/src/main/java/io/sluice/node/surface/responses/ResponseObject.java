package io.sluice.node.surface.responses;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The Responses API's {@code response} object, written for a translated answer: the whole
 * response of a non-streamed request, and the snapshots a stream's {@code response.created},
 * {@code response.completed} and the like carry. It holds every field the official SDKs require,
 * echoing the request's {@code instructions}, {@code tools}, {@code tool_choice},
 * {@code temperature}, {@code top_p}, {@code max_output_tokens} and {@code metadata}; a translated
 * response is never stored.
 */
final class ResponseObject {
  static final JsonFactory JSON = new ObjectMapper().getFactory();

  private ResponseObject() {}

  /** One output item: a message of text parts, or a function call. */
  sealed interface Item {
    String id();

    /** An assistant message; {@code texts} are its output_text parts. */
    record Message(String id, List<String> texts, String status) implements Item {}

    record FunctionCall(String id, String callId, String name, String arguments, String status) implements Item {}
  }

  /**
   * A snapshot.
   *
   * @param status in_progress, completed, incomplete or failed
   * @param incomplete the reason of an incomplete response (max_output_tokens, content_filter), else null
   * @param error the error of a failed one as {code, message}, else null
   * @param usage null while it is not known
   */
  record Snapshot(String id, String model, long createdAt, String status, List<Item> output, String incomplete,
      String[] error, Usage usage) {}

  /** The output items of a whole translated response: its texts as one message, then each call. */
  static List<Item> items(ChatResponse r, String id) {
    List<Item> items = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (Part p : r.content()) {
      if (p instanceof Part.Text t) {
        texts.add(t.text());
      } else if (p instanceof Part.ToolCall c) {
        if (!texts.isEmpty()) {
          items.add(new Item.Message(messageId(id, items.size()), List.copyOf(texts), "completed"));
          texts.clear();
        }
        items.add(new Item.FunctionCall(callItemId(c.id()), c.id(), c.name(), c.arguments(), "completed"));
      }
    }
    if (!texts.isEmpty() || items.isEmpty()) {
      items.add(new Item.Message(messageId(id, items.size()), List.copyOf(texts), "completed"));
    }
    return items;
  }

  /** The response id for an upstream's id: OpenAI's resp_ prefix, kept when it is there. */
  static String responseId(String upstreamId) {
    String id = upstreamId == null || upstreamId.isEmpty() ? Long.toHexString(System.nanoTime()) : upstreamId;
    return id.startsWith("resp_") ? id : "resp_" + id;
  }

  static String messageId(String responseId, int index) {
    return "msg_" + responseId.substring(5) + (index == 0 ? "" : "_" + index);
  }

  static String callItemId(String callId) {
    return callId != null && callId.startsWith("fc_") ? callId : "fc_" + callId;
  }

  /** The status and incomplete reason that a finish reason gives. */
  static String[] status(FinishReason reason) {
    if (reason == FinishReason.LENGTH) {
      return new String[] {"incomplete", "max_output_tokens"};
    }
    if (reason == FinishReason.CONTENT_FILTER) {
      return new String[] {"incomplete", "content_filter"};
    }
    return new String[] {"completed", null};
  }

  static byte[] json(Snapshot s, JsonNode request) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      write(g, s, request);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static void write(JsonGenerator g, Snapshot s, JsonNode request) throws IOException {
    g.writeStartObject();
    g.writeStringField("id", s.id());
    g.writeStringField("object", "response");
    g.writeNumberField("created_at", s.createdAt());
    g.writeStringField("status", s.status());
    g.writeBooleanField("background", false);
    if (s.error() == null) {
      g.writeNullField("error");
    } else {
      g.writeObjectFieldStart("error");
      g.writeStringField("code", s.error()[0]);
      g.writeStringField("message", s.error()[1]);
      g.writeEndObject();
    }
    if (s.incomplete() == null) {
      g.writeNullField("incomplete_details");
    } else {
      g.writeObjectFieldStart("incomplete_details");
      g.writeStringField("reason", s.incomplete());
      g.writeEndObject();
    }
    echo(g, request, "instructions", null);
    echo(g, request, "max_output_tokens", null);
    g.writeFieldName("metadata");
    JsonNode metadata = request.path("metadata");
    if (metadata.isObject()) {
      g.writeTree(metadata);
    } else {
      g.writeStartObject();
      g.writeEndObject();
    }
    g.writeStringField("model", s.model());
    g.writeArrayFieldStart("output");
    for (Item item : s.output()) {
      writeItem(g, item);
    }
    g.writeEndArray();
    JsonNode parallel = request.path("parallel_tool_calls");
    g.writeBooleanField("parallel_tool_calls", !parallel.isBoolean() || parallel.asBoolean());
    g.writeNullField("previous_response_id");
    g.writeBooleanField("store", false);
    echo(g, request, "temperature", 1.0);
    g.writeObjectFieldStart("text");
    g.writeObjectFieldStart("format");
    g.writeStringField("type", "text");
    g.writeEndObject();
    g.writeEndObject();
    JsonNode choice = request.path("tool_choice");
    g.writeFieldName("tool_choice");
    if (choice.isTextual() || choice.isObject()) {
      g.writeTree(choice);
    } else {
      g.writeString("auto");
    }
    g.writeFieldName("tools");
    JsonNode tools = request.path("tools");
    if (tools.isArray()) {
      g.writeTree(tools);
    } else {
      g.writeStartArray();
      g.writeEndArray();
    }
    echo(g, request, "top_p", 1.0);
    g.writeStringField("truncation", "disabled");
    if (s.usage() == null) {
      g.writeNullField("usage");
    } else {
      Usage u = s.usage();
      g.writeObjectFieldStart("usage");
      g.writeNumberField("input_tokens", u.promptTokens());
      g.writeObjectFieldStart("input_tokens_details");
      g.writeNumberField("cached_tokens", u.cacheReadTokens());
      g.writeEndObject();
      g.writeNumberField("output_tokens", u.completionTokens());
      g.writeObjectFieldStart("output_tokens_details");
      g.writeNumberField("reasoning_tokens", 0);
      g.writeEndObject();
      g.writeNumberField("total_tokens", u.promptTokens() + u.completionTokens());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  static void writeItem(JsonGenerator g, Item item) throws IOException {
    g.writeStartObject();
    if (item instanceof Item.Message m) {
      g.writeStringField("id", m.id());
      g.writeStringField("type", "message");
      g.writeStringField("status", m.status());
      g.writeStringField("role", "assistant");
      g.writeArrayFieldStart("content");
      for (String text : m.texts()) {
        writeTextPart(g, text);
      }
      g.writeEndArray();
    } else if (item instanceof Item.FunctionCall c) {
      g.writeStringField("id", c.id());
      g.writeStringField("type", "function_call");
      g.writeStringField("status", c.status());
      g.writeStringField("call_id", c.callId());
      g.writeStringField("name", c.name());
      g.writeStringField("arguments", c.arguments());
    }
    g.writeEndObject();
  }

  static void writeTextPart(JsonGenerator g, String text) throws IOException {
    g.writeStartObject();
    g.writeStringField("type", "output_text");
    g.writeStringField("text", text);
    g.writeArrayFieldStart("annotations");
    g.writeEndArray();
    g.writeArrayFieldStart("logprobs");
    g.writeEndArray();
    g.writeEndObject();
  }

  /** The request's value of {@code field} (a number or string), else {@code fallback}, else null. */
  private static void echo(JsonGenerator g, JsonNode request, String field, Double fallback) throws IOException {
    JsonNode v = request.path(field);
    g.writeFieldName(field);
    if (v.isNumber() || v.isTextual()) {
      g.writeTree(v);
    } else if (fallback != null) {
      g.writeNumber(fallback);
    } else {
      g.writeNull();
    }
  }
}
