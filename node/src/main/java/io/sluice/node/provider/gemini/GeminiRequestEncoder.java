package io.sluice.node.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a neutral request as a Gemini generateContent body, keeping the API's invariants that
 * the neutral model does not: roles are {@code user} and {@code model} and alternate (consecutive
 * turns of one role are merged), no turn and no text part is empty, a function call's
 * {@code args} and a function response's {@code response} are objects, each function response
 * names its function (recovered from the earlier call with the same id, since Gemini has no call
 * ids), and {@code toolConfig} is sent only with tools.
 */
final class GeminiRequestEncoder {
  private GeminiRequestEncoder() {}

  static GeminiWire.Request encode(ChatRequest r) throws InvalidChat {
    List<GeminiWire.Content> contents = contents(r.messages());
    if (contents.isEmpty()) {
      throw new InvalidChat("Gemini needs at least one message with content.", "messages");
    }
    GeminiWire.GenerationConfig generation = new GeminiWire.GenerationConfig(
        r.stop().isEmpty() ? null : r.stop(), r.temperature(), r.topP(), r.maxTokens() >= 0 ? r.maxTokens() : null);
    List<GeminiWire.WireTool> tools = tools(r.tools());
    return new GeminiWire.Request(contents, system(r.system()), tools,
        tools == null ? null : toolConfig(r.toolChoice()), generation.isEmpty() ? null : generation);
  }

  private static GeminiWire.Content system(List<Part> system) {
    List<GeminiWire.WirePart> parts = new ArrayList<>();
    for (Part p : system) {
      if (p instanceof Part.Text t && !t.text().isEmpty()) {
        parts.add(GeminiWire.WirePart.text(t.text()));
      } // the system instruction carries text only
    }
    return parts.isEmpty() ? null : new GeminiWire.Content(null, parts);
  }

  private static List<GeminiWire.Content> contents(List<Message> messages) throws InvalidChat {
    Map<String, String> callNames = new HashMap<>();
    List<GeminiWire.Content> out = new ArrayList<>();
    Message.Role role = null;
    List<GeminiWire.WirePart> turn = new ArrayList<>();
    for (Message m : messages) {
      List<GeminiWire.WirePart> parts = parts(m, callNames);
      if (parts.isEmpty()) {
        continue;
      }
      if (role != null && role != m.role()) {
        out.add(new GeminiWire.Content(roleName(role), turn));
        turn = new ArrayList<>();
      }
      role = m.role();
      turn.addAll(parts);
    }
    if (role != null) {
      out.add(new GeminiWire.Content(roleName(role), turn));
    }
    return out;
  }

  private static String roleName(Message.Role role) {
    return role == Message.Role.USER ? "user" : "model";
  }

  private static List<GeminiWire.WirePart> parts(Message m, Map<String, String> callNames) throws InvalidChat {
    List<GeminiWire.WirePart> out = new ArrayList<>(m.content().size());
    for (Part p : m.content()) {
      if (p instanceof Part.Text t) {
        if (!t.text().isEmpty()) {
          out.add(GeminiWire.WirePart.text(t.text()));
        }
      } else if (p instanceof Part.Image i) {
        out.add(image(i));
      } else if (p instanceof Part.ToolCall c) {
        if (c.id() != null) {
          callNames.put(c.id(), c.name());
        }
        out.add(GeminiWire.WirePart.call(c.name(), args(c.arguments()), ToolIds.signature(c.id())));
      } else if (p instanceof Part.ToolResult res) {
        String name = res.name() != null ? res.name() : callNames.get(res.callId());
        if (name == null) {
          throw new InvalidChat("The tool result for call '" + res.callId() + "' answers no earlier tool call "
              + "with that id; Gemini needs the function's name, which Sluice takes from that call.", "messages");
        }
        out.add(GeminiWire.WirePart.response(name, response(res)));
      }
    }
    return out;
  }

  /**
   * An inline image as inlineData; a {@code data:} URL (as OpenAI clients send inline images) is
   * unpacked into inlineData; any other URL (https, gs://, a Files API URI) is fileData, which
   * Gemini fetches itself, with the type guessed from the file's extension when it has a known one.
   */
  static GeminiWire.WirePart image(Part.Image i) throws InvalidChat {
    if (i.url() == null) {
      if (i.mediaType() == null || i.mediaType().isEmpty()) {
        throw new InvalidChat("An inline image needs its media type for Gemini.", "messages");
      }
      return GeminiWire.WirePart.inline(i.mediaType(), i.data());
    }
    String url = i.url();
    int comma = url.indexOf(',');
    if (url.regionMatches(true, 0, "data:", 0, 5)) {
      if (comma < 0 || !url.substring(0, comma).endsWith(";base64") || comma <= 5 + ";base64".length()) {
        throw new InvalidChat("An image data URL must be base64 with a media type (data:image/png;base64,...).",
            "messages");
      }
      return GeminiWire.WirePart.inline(url.substring(5, comma - ";base64".length()), url.substring(comma + 1));
    }
    return GeminiWire.WirePart.file(mimeOf(url), url);
  }

  private static String mimeOf(String url) {
    String path = url;
    int cut = path.indexOf('?');
    if (cut >= 0) {
      path = path.substring(0, cut);
    }
    cut = path.indexOf('#');
    if (cut >= 0) {
      path = path.substring(0, cut);
    }
    String lower = path.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".png")) {
      return "image/png";
    } else if (lower.endsWith(".jpg") || lower.endsWith(".jpeg")) {
      return "image/jpeg";
    } else if (lower.endsWith(".webp")) {
      return "image/webp";
    } else if (lower.endsWith(".gif")) {
      return "image/gif";
    } else if (lower.endsWith(".heic")) {
      return "image/heic";
    } else if (lower.endsWith(".heif")) {
      return "image/heif";
    }
    return null;
  }

  /** A call's JSON text as Gemini's {@code args} object; anything but an object reads as {}. */
  private static JsonNode args(String arguments) {
    JsonNode n = parse(arguments);
    return n != null && n.isObject() ? n : JsonNodeFactory.instance.objectNode();
  }

  /**
   * A tool result as Gemini's {@code response} object: a JSON object passes as it is; any other
   * text is {@code {"output": text}}, and an error's is {@code {"error": ...}}, the two keys the
   * API documents for a function's output and its error.
   */
  private static JsonNode response(Part.ToolResult res) {
    String text = res.content() == null ? "" : res.content();
    JsonNode n = parse(text);
    if (!res.error() && n != null && n.isObject()) {
      return n;
    }
    ObjectNode wrapped = JsonNodeFactory.instance.objectNode();
    if (res.error()) {
      wrapped.set("error", n != null && n.isObject() ? n : JsonNodeFactory.instance.textNode(text));
    } else {
      wrapped.put("output", text);
    }
    return wrapped;
  }

  private static JsonNode parse(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.strip();
    if (t.charAt(0) != '{') {
      return null;
    }
    try {
      return GeminiCodec.JSON.readTree(t);
    } catch (IOException e) {
      return null;
    }
  }

  private static List<GeminiWire.WireTool> tools(List<Tool> tools) {
    if (tools.isEmpty()) {
      return null;
    }
    List<GeminiWire.FunctionDeclaration> declarations = new ArrayList<>(tools.size());
    for (Tool t : tools) {
      JsonNode schema = t.parameters() != null && t.parameters().isObject() ? t.parameters() : null;
      declarations.add(new GeminiWire.FunctionDeclaration(t.name(), t.description(), schema));
    }
    return List.of(new GeminiWire.WireTool(declarations));
  }

  private static GeminiWire.ToolConfig toolConfig(ToolChoice c) {
    if (c == null) {
      return null;
    }
    GeminiWire.FunctionCallingConfig config = switch (c.mode()) {
      case AUTO -> new GeminiWire.FunctionCallingConfig("AUTO", null);
      case NONE -> new GeminiWire.FunctionCallingConfig("NONE", null);
      case REQUIRED -> new GeminiWire.FunctionCallingConfig("ANY", null);
      case NAMED -> new GeminiWire.FunctionCallingConfig("ANY", List.of(c.name()));
    };
    return new GeminiWire.ToolConfig(config);
  }
}
