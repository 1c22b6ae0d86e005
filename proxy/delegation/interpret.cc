#include "delegation/interpret.h"

#include "http/cache_control.h"

namespace deputy {

Result<std::shared_ptr<const Delegation>> InterpretResponse(const FetchResult& fetched,
                                                            const DiscoveryConfig& config,
                                                            const StaticHostCheck& is_static_host,
                                                            std::vector<std::string>* skipped) {
  const HttpResponse& response = fetched.response;
  auto delegation = std::make_shared<Delegation>();
  delegation->http_status = response.status;
  delegation->url = fetched.final_url;
  if (response.status == 404 || response.status == 410) {
    delegation->kind = Delegation::Kind::kNotDelegated;
    delegation->ttl_s = config.negative_ttl_s;
    return std::shared_ptr<const Delegation>(std::move(delegation));
  }
  if (response.status != 200) {
    return Status(ErrorCode::kLookupStatus,
                  fetched.final_url + " answered HTTP " + std::to_string(response.status));
  }
  Result<Document> document = ParseDocument(response.body, is_static_host);
  if (!document.ok()) {
    return Status(document.status().code(), fetched.final_url + ": " + document.status().message());
  }
  if (skipped != nullptr) *skipped = std::move(document->skipped);
  delegation->targets = std::move(document->targets);
  delegation->kind =
      delegation->targets.empty() ? Delegation::Kind::kEmpty : Delegation::Kind::kTargets;
  delegation->ttl_s =
      ClampTtl(ResponseLifetime(response.HeaderList("cache-control"), response.Header("expires"),
                                response.Header("date"), response.Header("age")),
               config.min_ttl_s, config.max_ttl_s, config.default_ttl_s);
  return std::shared_ptr<const Delegation>(std::move(delegation));
}

}  // namespace deputy
