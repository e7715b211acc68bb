package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Part;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole chat.completion both ways: an upstream's read into the neutral response (its first
 * choice), and a neutral response written as the object OpenAI's SDKs parse.
 */
final class ChatResponseCodec {
  private ChatResponseCodec() {}

  static ChatResponse read(byte[] body) throws InvalidChat {
    JsonNode root = ChatWire.parse(body);
    JsonNode error = root.get("error");
    if (error != null && !error.isNull()) {
      throw new InvalidChat("The upstream answered an error: " + error.path("message").asText(error.toString()),
          "error");
    }
    JsonNode choices = root.get("choices");
    if (choices == null || !choices.isArray()) {
      throw new InvalidChat("A chat completion has a 'choices' array.", "choices");
    }
    List<Part> content = new ArrayList<>();
    String finish = null;
    if (!choices.isEmpty()) {
      JsonNode choice = choices.get(0);
      JsonNode message = choice.path("message");
      if (!message.isObject()) {
        throw new InvalidChat("A choice has a 'message' object.", "choices.0.message");
      }
      JsonNode text = message.get("content");
      if (text != null && text.isTextual()) {
        content.add(new Part.Text(text.textValue()));
      } else if (message.path("refusal").isTextual()) {
        content.add(new Part.Text(message.get("refusal").textValue())); // a refusal is what the model said
      }
      JsonNode calls = message.get("tool_calls");
      if (calls != null && calls.isArray()) {
        for (int i = 0; i < calls.size(); i++) {
          content.add(toolCall(calls.get(i).path("id").textValue(), calls.get(i).path("function"),
              "choices.0.message.tool_calls." + i + ".function"));
        }
      }
      JsonNode legacy = message.get("function_call");
      if (legacy != null && legacy.isObject()) {
        content.add(toolCall(null, legacy, "choices.0.message.function_call"));
      }
      finish = choice.path("finish_reason").textValue();
    }
    return new ChatResponse(root.path("id").textValue(), root.path("model").textValue(), content,
        ChatWire.finishReason(finish), ChatWire.usage(root.get("usage")));
  }

  private static Part.ToolCall toolCall(String id, JsonNode function, String path) throws InvalidChat {
    String name = function.path("name").textValue();
    if (name == null) {
      throw new InvalidChat("A tool call names its function.", path + ".name");
    }
    String arguments = function.path("arguments").textValue();
    return new Part.ToolCall(ChatWire.callId(id), name, arguments == null ? "{}" : arguments);
  }

  /**
   * @param created the epoch second the object says it was created at
   */
  static byte[] write(ChatResponse r, long created) {
    StringBuilder text = null;
    List<Part.ToolCall> calls = new ArrayList<>();
    for (Part p : r.content()) {
      if (p instanceof Part.Text t) {
        text = text == null ? new StringBuilder(t.text()) : text.append(t.text());
      } else if (p instanceof Part.ToolCall call) {
        calls.add(call);
      } else {
        throw new IllegalArgumentException("A response holds text and tool calls only, not " + p);
      }
    }
    String content = text == null ? null : text.toString();
    return ChatWire.write(g -> {
      g.writeStartObject();
      g.writeStringField("id", ChatWire.completionId(r.id()));
      g.writeStringField("object", "chat.completion");
      g.writeNumberField("created", created);
      g.writeStringField("model", r.model() == null ? "" : r.model());
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      g.writeObjectFieldStart("message");
      g.writeStringField("role", "assistant");
      g.writeStringField("content", content);
      g.writeNullField("refusal");
      if (!calls.isEmpty()) {
        g.writeArrayFieldStart("tool_calls");
        for (Part.ToolCall call : calls) {
          g.writeStartObject();
          g.writeStringField("id", ChatWire.callId(call.id()));
          g.writeStringField("type", "function");
          g.writeObjectFieldStart("function");
          g.writeStringField("name", call.name());
          g.writeStringField("arguments", call.arguments());
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeNullField("logprobs");
      // OpenAI's SDKs require a whole completion's finish_reason (openai-java's validate() and
      // finishReason() throw on null); a finished response that names no reason ended naturally.
      g.writeStringField("finish_reason",
          ChatWire.finishReason(r.finishReason() == null ? FinishReason.STOP : r.finishReason()));
      g.writeEndObject();
      g.writeEndArray();
      if (r.usage() != null) {
        ChatWire.writeUsage(g, r.usage());
      }
      g.writeEndObject();
    });
  }
}
