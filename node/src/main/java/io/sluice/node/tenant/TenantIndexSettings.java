package io.sluice.node.tenant;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How {@code GET /admin/v1/tenants} lists tenants ({@code sluice.admin.tenant-list}): the read
 * journal whose persistence ids it lists, how often it asks it again, and the page sizes.
 */
public record TenantIndexSettings(String readJournal, Duration refresh, int defaultPage, int maxPage) {

  public TenantIndexSettings {
    if (defaultPage < 1 || maxPage < defaultPage) {
      throw new IllegalArgumentException("sluice.admin.tenant-list: default-page must be at least 1 and at most max-page");
    }
  }

  public static TenantIndexSettings from(Config config) {
    Config c = config.getConfig("sluice.admin.tenant-list");
    return new TenantIndexSettings(config.getString("sluice.persistence.read-journal"), c.getDuration("refresh"),
        c.getInt("default-page"), c.getInt("max-page"));
  }
}
