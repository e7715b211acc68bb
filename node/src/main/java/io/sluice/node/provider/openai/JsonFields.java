package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.InvalidChat;

/**
 * Reads one field of a client's JSON and checks its type, refusing a wrong one with its path.
 * Absent and JSON null read alike: OpenAI's SDKs send null for unset optional fields.
 */
final class JsonFields {
  private JsonFields() {}

  static JsonNode required(JsonNode m, String field, String path) throws InvalidChat {
    JsonNode v = m.get(field);
    if (!present(v)) {
      throw new InvalidChat("'" + field + "' is required.", path + "." + field);
    }
    return v;
  }

  static String partType(JsonNode part, String path) throws InvalidChat {
    if (!part.isObject()) {
      throw new InvalidChat("Each content part must be an object.", path);
    }
    String type = text(part.get("type"), path + ".type");
    if (type == null) {
      throw new InvalidChat("'type' is required.", path + ".type");
    }
    return type;
  }

  static boolean present(JsonNode v) {
    return v != null && !v.isNull();
  }

  static String text(JsonNode v, String path) throws InvalidChat {
    if (!present(v)) {
      return null;
    }
    if (!v.isTextual()) {
      throw new InvalidChat("'" + leaf(path) + "' must be a string.", path);
    }
    return v.textValue();
  }

  static boolean bool(JsonNode v, String path) throws InvalidChat {
    if (!present(v)) {
      return false;
    }
    if (!v.isBoolean()) {
      throw new InvalidChat("'" + leaf(path) + "' must be a boolean.", path);
    }
    return v.booleanValue();
  }

  static Double number(JsonNode v, String path) throws InvalidChat {
    if (!present(v)) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InvalidChat("'" + leaf(path) + "' must be a number.", path);
    }
    return v.doubleValue();
  }

  static long count(JsonNode v, String path) throws InvalidChat {
    if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new InvalidChat("'" + path + "' must be a non-negative integer.", path);
    }
    return v.asLong();
  }

  static String leaf(String path) {
    return path.substring(path.lastIndexOf('.') + 1);
  }
}
