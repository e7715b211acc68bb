package io.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A small HTTP client over loopback for the tests: admin calls, inference calls, JSON. */
final class Api {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private Api() {}

  /** Anything with an HTTP base: a single node, or one node of a cluster. */
  interface Target {
    String url(String path);
  }

  static HttpResponse<String> send(String method, String url, Map<String, String> headers, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    headers.forEach(b::header);
    try {
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static int status(String method, String url) {
    try {
      return send(method, url, Map.of(), null).statusCode();
    } catch (UncheckedIOException e) {
      return -1;
    }
  }

  static HttpResponse<String> admin(Target node, String method, String path, String body) {
    return send(method, node.url(path), Map.of("Authorization", "Bearer " + SluiceNode.ADMIN_KEY), body);
  }

  /** Creates a tenant (optionally with limits/models JSON fragments) and returns a new key for it. */
  static String tenantWithKey(Target node, String id, String extraJson) {
    String body = "{\"id\":\"" + id + "\"" + (extraJson == null ? "" : "," + extraJson) + "}";
    HttpResponse<String> created = admin(node, "POST", "/admin/v1/tenants", body);
    if (created.statusCode() != 201) {
      throw new IllegalStateException("create tenant: " + created.statusCode() + " " + created.body());
    }
    HttpResponse<String> key = admin(node, "POST", "/admin/v1/tenants/" + id + "/keys", null);
    if (key.statusCode() != 201) {
      throw new IllegalStateException("issue key: " + key.statusCode() + " " + key.body());
    }
    return json(key.body()).get("key").asText();
  }

  static HttpResponse<String> post(Target node, String path, String key, String body) {
    return send("POST", node.url(path), key == null ? Map.of() : Map.of("Authorization", "Bearer " + key), body);
  }

  static HttpResponse<String> chat(Target node, String key, String body) {
    return post(node, "/v1/chat/completions", key, body);
  }

  static String chatBody(String model, String extra) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the gateway\"}]"
        + (extra == null ? "" : "," + extra) + "}";
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + body, e);
    }
  }
}
