package io.sluice.node.api;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import java.io.IOException;

/**
 * The admin API's request bodies on any bytes: a tenant create body and a PATCH body are read or
 * refused with the documented parse errors only ({@link IOException} from the strict mapper, which
 * AdminRoutes answers with 400, or {@link AdminJson.Invalid}, a 400 naming the field).
 */
class AdminJsonFuzzTest {

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void read_anyBody_readsOrRefuses(byte[] body) {
    try {
      AdminJson.MAPPER.readValue(body, AdminJson.CreateTenant.class);
    } catch (IOException refused) {
      // 400
    }
    try {
      AdminJson.TenantPatch.read(body);
    } catch (IOException | AdminJson.Invalid refused) {
      // 400
    }
  }
}
