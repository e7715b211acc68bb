package io.sluice.node.provider.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a neutral request as an OpenAI chat completions request for an OpenAI-compatible
 * upstream, in the plainest form those servers all read: string content wherever a turn is one
 * text, {@code max_tokens} rather than {@code max_completion_tokens}, and a streamed request
 * always asks for usage (the gateway charges from it).
 */
final class ChatRequestWriter {
  private ChatRequestWriter() {}

  static byte[] write(ChatRequest r) {
    return ChatWire.write(g -> {
      g.writeStartObject();
      g.writeStringField("model", r.model());
      g.writeArrayFieldStart("messages");
      if (!r.system().isEmpty()) {
        g.writeStartObject();
        g.writeStringField("role", "system");
        writeContent(g, r.system(), "system");
        g.writeEndObject();
      }
      for (Message m : r.messages()) {
        if (m.role() == Message.Role.USER) {
          writeUser(g, m.content());
        } else {
          writeAssistant(g, m.content());
        }
      }
      g.writeEndArray();
      if (!r.tools().isEmpty()) {
        g.writeArrayFieldStart("tools");
        for (Tool t : r.tools()) {
          g.writeStartObject();
          g.writeStringField("type", "function");
          g.writeObjectFieldStart("function");
          g.writeStringField("name", t.name());
          if (t.description() != null) {
            g.writeStringField("description", t.description());
          }
          if (t.parameters() != null) {
            g.writeFieldName("parameters");
            g.writeTree(t.parameters());
          }
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      if (r.toolChoice() != null) {
        writeToolChoice(g, r.toolChoice());
      }
      if (r.maxTokens() >= 0) {
        g.writeNumberField("max_tokens", r.maxTokens());
      }
      if (r.temperature() != null) {
        g.writeNumberField("temperature", r.temperature());
      }
      if (r.topP() != null) {
        g.writeNumberField("top_p", r.topP());
      }
      if (!r.stop().isEmpty()) {
        g.writeArrayFieldStart("stop");
        for (String s : r.stop()) {
          g.writeString(s);
        }
        g.writeEndArray();
      }
      if (r.stream()) {
        g.writeBooleanField("stream", true);
        g.writeObjectFieldStart("stream_options");
        g.writeBooleanField("include_usage", true);
        g.writeEndObject();
      }
      g.writeEndObject();
    });
  }

  /** Tool results first, each its own tool message in order, then the turn's text and images. */
  private static void writeUser(JsonGenerator g, List<Part> parts) throws IOException {
    List<Part> rest = new ArrayList<>(parts.size());
    for (Part p : parts) {
      if (p instanceof Part.ToolResult result) {
        // OpenAI has no error flag on a tool result; the content says what went wrong.
        g.writeStartObject();
        g.writeStringField("role", "tool");
        g.writeStringField("tool_call_id", result.callId());
        g.writeStringField("content", result.content());
        g.writeEndObject();
      } else if (p instanceof Part.ToolCall) {
        throw new IllegalArgumentException("A user turn cannot hold a tool call.");
      } else {
        rest.add(p);
      }
    }
    if (!rest.isEmpty() || parts.isEmpty()) {
      g.writeStartObject();
      g.writeStringField("role", "user");
      writeContent(g, rest, "user");
      g.writeEndObject();
    }
  }

  private static void writeAssistant(JsonGenerator g, List<Part> parts) throws IOException {
    List<Part> text = new ArrayList<>(parts.size());
    List<Part.ToolCall> calls = new ArrayList<>();
    for (Part p : parts) {
      if (p instanceof Part.ToolCall call) {
        calls.add(call);
      } else if (p instanceof Part.Text) {
        text.add(p);
      } else {
        throw new IllegalArgumentException("An assistant turn holds text and tool calls only, not " + p);
      }
    }
    g.writeStartObject();
    g.writeStringField("role", "assistant");
    if (text.isEmpty() && !calls.isEmpty()) {
      g.writeNullField("content");
    } else {
      writeContent(g, text, "assistant");
    }
    if (!calls.isEmpty()) {
      g.writeArrayFieldStart("tool_calls");
      for (Part.ToolCall call : calls) {
        g.writeStartObject();
        g.writeStringField("id", call.id());
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
  }

  /** One text part as a string (every compatible server reads that), otherwise an array of parts. */
  private static void writeContent(JsonGenerator g, List<Part> parts, String role) throws IOException {
    if (parts.isEmpty()) {
      g.writeStringField("content", "");
      return;
    }
    if (parts.size() == 1 && parts.get(0) instanceof Part.Text t) {
      g.writeStringField("content", t.text());
      return;
    }
    g.writeArrayFieldStart("content");
    for (Part p : parts) {
      g.writeStartObject();
      if (p instanceof Part.Text t) {
        g.writeStringField("type", "text");
        g.writeStringField("text", t.text());
      } else if (p instanceof Part.Image image && role.equals("user")) {
        g.writeStringField("type", "image_url");
        g.writeObjectFieldStart("image_url");
        g.writeStringField("url", image.url() != null
            ? image.url() : "data:" + image.mediaType() + ";base64," + image.data());
        g.writeEndObject();
      } else {
        throw new IllegalArgumentException("A " + role + " message cannot hold " + p);
      }
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void writeToolChoice(JsonGenerator g, ToolChoice choice) throws IOException {
    switch (choice.mode()) {
      case AUTO -> g.writeStringField("tool_choice", "auto");
      case NONE -> g.writeStringField("tool_choice", "none");
      case REQUIRED -> g.writeStringField("tool_choice", "required");
      case NAMED -> {
        g.writeObjectFieldStart("tool_choice");
        g.writeStringField("type", "function");
        g.writeObjectFieldStart("function");
        g.writeStringField("name", choice.name());
        g.writeEndObject();
        g.writeEndObject();
      }
    }
  }
}
