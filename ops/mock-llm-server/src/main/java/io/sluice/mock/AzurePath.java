package io.sluice.mock;

/**
 * Azure OpenAI's URL forms, mapped onto the OpenAI mode's paths: the deployments form
 * {@code /openai/deployments/{deployment}/chat/completions|embeddings|completions?api-version=...}
 * (where the deployment, not the body, names the model, and api-version is required), and the v1
 * API {@code /openai/v1/...} (the model in the body, api-version optional). Azure authenticates by
 * the {@code api-key} header, or by a bearer token.
 *
 * @param openAiPath the OpenAI path the request is served as
 * @param deployment the deployment of the deployments form, null for the v1 API
 * @param apiVersion the api-version query parameter, null when absent
 */
record AzurePath(String openAiPath, String deployment, String apiVersion) {
  private static final String DEPLOYMENTS = "/openai/deployments/";
  private static final String V1 = "/openai/v1/";

  /** The Azure form of {@code path}, or null when it is not one. */
  static AzurePath parse(String path, String query) {
    String version = param(query, "api-version");
    if (path.startsWith(V1)) {
      String rest = path.substring(V1.length());
      return switch (rest) {
        case "chat/completions", "embeddings", "completions", "responses", "models" ->
            new AzurePath("/v1/" + rest, null, version);
        default -> null;
      };
    }
    if (path.startsWith(DEPLOYMENTS)) {
      String rest = path.substring(DEPLOYMENTS.length());
      int slash = rest.indexOf('/');
      if (slash <= 0) {
        return null;
      }
      String op = rest.substring(slash + 1);
      return switch (op) {
        case "chat/completions", "embeddings", "completions" ->
            new AzurePath("/v1/" + op, java.net.URLDecoder.decode(rest.substring(0, slash),
                java.nio.charset.StandardCharsets.UTF_8), version);
        default -> null;
      };
    }
    return null;
  }

  /** Whether the request lacks the api-version that the deployments form requires. */
  boolean missingVersion() {
    return deployment != null && (apiVersion == null || apiVersion.isEmpty());
  }

  /** Azure's answer to a deployments URL without api-version. */
  static final String MISSING_VERSION = "{\"error\":{\"code\":\"MissingApiVersionParameter\",\"message\":\"The"
      + " api-version query parameter (?api-version=) is required for all requests.\"}}";

  /** Azure's answer to a missing or wrong key. */
  static final String ACCESS_DENIED = "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid"
      + " subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and"
      + " use a correct regional API endpoint for your resource.\"}}";

  private static String param(String query, String name) {
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
