#include "adapter/cli/serve.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <thread>

#include "adapter/admin/admin.hpp"
#include "adapter/admin/deliveries.hpp"
#include "adapter/auth/auth.hpp"
#include "adapter/cli/rules.hpp"
#include "adapter/delivery/delivery.hpp"
#include "adapter/http/http.hpp"
#include "adapter/ingress/ingress.hpp"
#include "adapter/processing/processing.hpp"
#include "adapter/store/store.hpp"

namespace helsebro::cli {

namespace {

void announce_demo_client(const auth::DemoClient& demo, const std::string& address) {
    auto log = spdlog::default_logger();
    log->info("{} the demo client's token in {} (readable by this user only).",
              demo.created ? "Created" : "Using", demo.token_path);
    log->info("Try: curl -H \"Authorization: Bearer $(cat {})\" -H \"Content-Type: application/fhir+json\" "
              "-d '{{\"resourceType\":\"Patient\",\"active\":true}}' http://{}/fhir/Patient",
              demo.token_path, address);
}

http::ServerOptions server_options(const config::Config& c) {
    http::ServerOptions o;
    o.host = c.http.listen_host;
    o.port = c.http.listen_port;
    o.threads = c.http.threads;
    o.max_body_bytes = c.http.max_body_bytes;
    o.max_header_bytes = c.http.max_header_bytes;
    o.max_connections = c.http.max_connections;
    o.read_timeout_seconds = c.http.read_timeout_seconds;
    o.write_timeout_seconds = c.http.write_timeout_seconds;
    o.idle_timeout_seconds = c.http.idle_timeout_seconds;
    o.shutdown_grace_seconds = c.http.shutdown_grace_seconds;
    return o;
}

}  // namespace

int serve(std::shared_ptr<const config::Config> config) {
    auto log = spdlog::default_logger();
    // Everything Helsebro writes (database, WAL, tokens) holds patient data: no one else reads it.
    ::umask(077);
    store::StoreOptions so{config->store.data_dir, config->store.group_commit_max_batch,
                           config->store.busy_timeout_ms, config->store.read_connections,
                           config->store.max_queued_writes, config->store.max_queued_bytes};
    std::unique_ptr<store::Store> store;
    try {
        store = std::make_unique<store::Store>(so);
    } catch (const std::exception& e) {
        log->critical("Cannot open the store in {}: {}", config->store.data_dir, e.what());
        return 1;
    }

    // The rules are checked before anything is opened: a daemon that cannot map what it accepts
    // would pile up work that waits.
    auto loaded = load_mapping_rules(*config);
    if (!loaded.rules) {
        for (const auto& e : loaded.errors) log->critical("Mapping rules: {}", e.to_string());
        log->critical("The mapping rules in {} do not load ({} problems); not starting.", config->mappings.dir, loaded.errors.size());
        return 1;
    }
    if (config->mappings.dir.empty())
        log->warn("No mapping rules are configured (mappings.dir): accepted data is stored but not mapped or forwarded.");
    else
        log->info("Mapping rules: rule set {} from {} files in {}.", mapping::version(*loaded.rules),
                  mapping::files(*loaded.rules).size(), config->mappings.dir);

    auto clients = config->auth.clients;
    std::optional<auth::DemoClient> demo;
    if (config->auth.demo_client) {
        for (const auto& c : clients) {
            if (c.id == "demo") {
                log->critical("auth.clients has a client 'demo', the id auth.demo_client uses; rename one.");
                return 1;
            }
        }
        try {
            demo = auth::ensure_demo_client(config->store.data_dir);
        } catch (const std::exception& e) {
            log->critical("Cannot set up the demo client: {}", e.what());
            return 1;
        }
        clients.push_back(demo->client);
    }
    if (clients.empty()) log->warn("No clients are configured: every FHIR request but metadata will get 401.");

    // The API needs the bound port for its base URL when the config asked for port 0.
    admin::Rules rules([config] { return load_mapping_rules(*config); }, loaded.rules);
    processing::Processor processor(*store, [&rules] { return rules.current(); });
    rules.attach(&processor);
    std::unique_ptr<delivery::Engine> delivery;
    try {
        delivery = std::make_unique<delivery::Engine>(*store, config->recipients);
    } catch (const std::exception& e) {
        log->critical("Cannot set up delivery: {}", e.what());
        return 1;
    }
    store->on_commit([&processor, &delivery] {
        processor.notify();
        delivery->notify();
    });
    processor.start();
    delivery->start();
    if (!config->recipients.empty())
        log->info("Delivering to {} recipients.", config->recipients.size());
    const auth::Authenticator authenticator(clients);
    admin::AdminApi admin_api(authenticator, config->admin.clients, rules, processor, *store);
    admin::DeliveryAdmin delivery_admin(*store, *delivery, config->recipients);

    http::ServerOptions options = server_options(*config);
    options.on_stopping = [] { sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing requests in flight"); };
    // A reload may take a moment (every file parsed and checked): off the server's strand.
    options.on_reload = [&rules] { std::thread([&rules] { rules.reload(); }).detach(); };
    std::unique_ptr<ingress::FhirApi> api;
    struct Forward final : http::Handler {
        ingress::FhirApi* api = nullptr;
        admin::AdminApi* admin = nullptr;
        admin::DeliveryAdmin* deliveries = nullptr;
        std::optional<http::Response> check_head(http::Request& h) override {
            return admin::AdminApi::is_admin_path(h.target) ? admin->check_head(h) : api->check_head(h);
        }
        void handle(http::Request r, http::Respond done) override {
            if (admin::DeliveryAdmin::handles(std::string_view(r.target).substr(0, r.target.find('?'))))
                return deliveries->handle(r, std::move(done));
            if (admin::AdminApi::is_admin_path(r.target)) return done(admin->handle(r));
            api->handle(std::move(r), std::move(done));
        }
        http::Response error(int s, std::string_view m) override { return api->error(s, m); }
    } forward;
    forward.admin = &admin_api;
    forward.deliveries = &delivery_admin;
    http::Server server(options, forward);
    try {
        server.listen();
    } catch (const std::exception& e) {
        log->critical("Cannot listen on {}:{}: {}", options.host, options.port, e.what());
        return 1;
    }
    auto bound = std::make_shared<config::Config>(*config);
    bound->http.listen_port = server.port();
    api = std::make_unique<ingress::FhirApi>(bound, *store, auth::Authenticator(clients));
    api->report_delivery([&delivery] { return delivery->open_circuits(); });
    forward.api = api.get();

    log->info("Helsebro {} is listening on {} (data in {}).", HELSEBRO_VERSION, server.address(),
              config->store.data_dir);
    if (demo) announce_demo_client(*demo, server.address());
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s", server.address().c_str());

    bool clean = server.run();

    processor.stop();
    delivery->stop();  // what is under way stays queued: sent again, with the same id, after a restart
    store->close(/*run_queued=*/clean);
    auto stats = store->stats();
    if (stats.commits > 0)
        log->info("Stored {} writes in {} commits ({:.1f} per commit; {:.2f} ms running and {:.2f} ms committing "
                  "per commit).",
                  stats.jobs, stats.commits, double(stats.jobs) / double(stats.commits),
                  1000 * stats.run_seconds / double(stats.commits), 1000 * stats.commit_seconds / double(stats.commits));
    if (clean)
        log->info("Stopped cleanly; every acknowledged request is in the store.");
    else
        log->warn("Stopped before every request was answered; every acknowledged request is in the store, "
                  "the unanswered ones will be sent again by their senders.");
    return 0;
}

}  // namespace helsebro::cli
