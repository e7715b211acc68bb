package io.sluice.node.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The two facts a trace reports of a passed-through whole response, read in one streaming pass
 * without a tree: the top-level {@code model}, and the finish reasons (OpenAI's
 * {@code choices[].finish_reason}, Anthropic's {@code stop_reason}), as the upstream wrote them.
 * Nothing else of the body is read; it runs only when traces are exported.
 */
record ResponseFacts(String model, List<String> finishReasons) {
  private static final JsonFactory JSON = new JsonFactory();

  /** The facts of {@code json}; empty ones when it is not a JSON object. */
  static ResponseFacts scan(byte[] json) {
    String model = null;
    List<String> reasons = new ArrayList<>(1);
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return new ResponseFacts(null, List.of());
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("model") && v == JsonToken.VALUE_STRING) {
          model = p.getText();
        } else if (name.equals("stop_reason") && v == JsonToken.VALUE_STRING) {
          reasons.add(p.getText());
        } else if (name.equals("choices") && v == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String field = p.currentName();
              JsonToken fv = p.nextToken();
              if (field.equals("finish_reason") && fv == JsonToken.VALUE_STRING) {
                reasons.add(p.getText());
              } else {
                p.skipChildren();
              }
            }
          }
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException | RuntimeException e) {
      // A body that is not JSON has no facts beyond what was read.
    }
    return new ResponseFacts(model, List.copyOf(reasons));
  }
}
