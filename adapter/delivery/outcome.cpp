#include "adapter/delivery/outcome.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <map>
#include <stdexcept>

#include "adapter/store/store.hpp"
#include "fhir/json.hpp"

namespace helsebro::delivery {

namespace json = fhir::json;

namespace {

constexpr milliseconds max_retry_after = std::chrono::hours(24);

std::string type_and_id(const json::Value& resource, std::string_view full_url) {
    std::string type(resource.string_at("resourceType").value_or(""));
    std::string id(resource.string_at("id").value_or(""));
    if (id.empty() && full_url.starts_with("urn:uuid:")) id = std::string(full_url.substr(9));
    if (type.empty() || id.empty())
        throw std::invalid_argument("an entry of the message has neither an id nor a urn:uuid fullUrl to make one from");
    return type + "/" + id;
}

void rewrite_references(json::Value& v, const std::map<std::string, std::string, std::less<>>& to) {
    if (v.is_object()) {
        for (auto& [key, value] : v.members()) {
            if (key == "reference" && value.is_string()) {
                auto it = to.find(value.text());
                if (it != to.end()) value = json::Value::string(it->second);
            } else {
                rewrite_references(value, to);
            }
        }
    } else if (v.is_array()) {
        for (auto& item : v.items()) rewrite_references(item, to);
    }
}

int entry_status(const json::Value& entry) {
    const json::Value* response = entry.find("response");
    auto status = response ? response->string_at("status") : std::nullopt;
    if (!status || status->size() < 3) return 0;
    int code = 0;
    auto [p, ec] = std::from_chars(status->data(), status->data() + 3, code);
    return ec == std::errc() ? code : 0;
}

bool retryable_status(int status) { return status == 408 || status == 429 || (status >= 500 && status != 501); }

// FHIR issue types that say "try again later" (the transient branch of the code system).
bool transient_issue(std::string_view code) {
    return code == "transient" || code == "lock" || code == "no-store" || code == "exception" || code == "timeout" ||
           code == "incomplete" || code == "throttled";
}

std::optional<Verdict> judge_outcome(const json::Value& oo) {
    const json::Value* issues = oo.find("issue");
    if (!issues || !issues->is_array()) return std::nullopt;
    for (const auto& issue : issues->items()) {
        auto severity = issue.string_at("severity").value_or("");
        if (severity != "error" && severity != "fatal") continue;
        std::string code(issue.string_at("code").value_or("unknown"));
        if (transient_issue(code))
            return Verdict{Verdict::Kind::retry, "the answer's OperationOutcome has a transient " + code + " error", {}, true};
        return Verdict{Verdict::Kind::dead, "the answer's OperationOutcome has an error (" + code + ")", {}, false};
    }
    return std::nullopt;
}

Verdict judge_body(const Result& r) {
    const Verdict delivered{Verdict::Kind::delivered, "answered " + std::to_string(r.status), {}, false};
    auto parsed = json::parse(r.body, {128});
    if (!parsed.value || !parsed.value->is_object()) return delivered;  // a 2xx needs no body
    const json::Value& v = *parsed.value;
    auto type = v.string_at("resourceType").value_or("");
    if (type == "OperationOutcome") return judge_outcome(v).value_or(delivered);
    if (type != "Bundle") return delivered;
    auto bundle_type = v.string_at("type").value_or("");
    const json::Value* entries = v.find("entry");
    if ((bundle_type == "batch-response" || bundle_type == "transaction-response") && entries && entries->is_array()) {
        std::optional<Verdict> worst;
        for (std::size_t i = 0; i < entries->items().size(); ++i) {
            int status = entry_status(entries->items()[i]);
            if (status >= 200 && status < 400) continue;
            const std::string what = "entry " + std::to_string(i) + " of the " + std::string(bundle_type) + " answered " +
                                     (status ? std::to_string(status) : std::string("no status"));
            if (status && !retryable_status(status)) return Verdict{Verdict::Kind::dead, what, {}, false};
            if (!worst) worst = Verdict{Verdict::Kind::retry, what, {}, true};
        }
        return worst.value_or(delivered);
    }
    if (bundle_type == "message" && entries && entries->is_array() && !entries->items().empty()) {
        const json::Value* header = entries->items().front().find("resource");
        const json::Value* response = header ? header->find("response") : nullptr;
        auto code = response ? response->string_at("code").value_or("ok") : std::string_view("ok");
        if (code == "transient-error")
            return Verdict{Verdict::Kind::retry, "the response message says transient-error", {}, true};
        if (code == "fatal-error") return Verdict{Verdict::Kind::dead, "the response message says fatal-error", {}, false};
    }
    return delivered;
}

}  // namespace

std::vector<Request> requests_for(config::Recipient::Style style, std::string_view message, std::string_view known_id) {
    if (style == config::Recipient::Style::process_message && !known_id.empty())
        return {Request{"POST", "/$process-message", std::string(message), std::string(known_id)}};
    auto parsed = json::parse(message, {512});
    if (!parsed.value || parsed.value->string_at("resourceType") != "Bundle" ||
        parsed.value->string_at("type") != "message")
        throw std::invalid_argument("a queued message is not a message Bundle");
    const std::string id(parsed.value->string_at("id").value_or(""));
    if (style == config::Recipient::Style::process_message)
        return {Request{"POST", "/$process-message", std::string(message), id}};

    // The resources without the MessageHeader: a plain FHIR server keeps the data, not the envelope.
    std::vector<std::pair<std::string, json::Value>> resources;  // (Type/id, resource)
    std::map<std::string, std::string, std::less<>> full_urls;    // urn:uuid -> Type/id
    if (const json::Value* entries = parsed.value->find("entry"))
        for (const auto& entry : entries->items()) {
            const json::Value* resource = entry.find("resource");
            if (!resource || resource->string_at("resourceType") == "MessageHeader") continue;
            const std::string full_url(entry.string_at("fullUrl").value_or(""));
            std::string name = type_and_id(*resource, full_url);
            json::Value copy = *resource;
            copy.set("id", json::Value::string(name.substr(name.find('/') + 1)));
            if (!full_url.empty()) full_urls[full_url] = name;
            resources.emplace_back(std::move(name), std::move(copy));
        }

    if (style == config::Recipient::Style::transaction) {
        json::Value bundle = json::Value::object();
        bundle.set("resourceType", json::Value::string("Bundle"));
        bundle.set("id", json::Value::string(id));
        bundle.set("type", json::Value::string("transaction"));
        json::Value out = json::Value::array();
        for (auto& [name, resource] : resources) {
            json::Value entry = json::Value::object();
            std::string full_url = name;
            for (const auto& [url, target] : full_urls)
                if (target == name) full_url = url;
            entry.set("fullUrl", json::Value::string(full_url));
            entry.set("resource", std::move(resource));
            json::Value request = json::Value::object();
            request.set("method", json::Value::string("PUT"));
            request.set("url", json::Value::string(name));
            entry.set("request", std::move(request));
            out.push_back(std::move(entry));
        }
        bundle.set("entry", std::move(out));
        return {Request{"POST", "", json::write(bundle), id}};
    }

    std::vector<Request> requests;
    for (std::size_t i = 0; i < resources.size(); ++i) {
        auto& [name, resource] = resources[i];
        rewrite_references(resource, full_urls);
        requests.push_back(Request{"PUT", "/" + name, json::write(resource), id + ":" + std::to_string(i)});
    }
    return requests;
}

Verdict judge(const Result& r, Clock::time_point now) {
    if (!r.ok()) {
        std::string reason = "no answer: " + std::string(to_string(r.failure));
        if (!r.detail.empty()) reason += " (" + r.detail + ")";
        return Verdict{Verdict::Kind::retry, std::move(reason), {}, r.failure != Failure::cancelled};
    }
    if (r.status >= 200 && r.status < 300) return judge_body(r);
    const std::string answered = "answered " + std::to_string(r.status);
    if (retryable_status(r.status))
        return Verdict{Verdict::Kind::retry, answered, parse_retry_after(r.header("Retry-After"), now), true};
    return Verdict{Verdict::Kind::dead, answered, {}, false};
}

std::optional<milliseconds> parse_retry_after(std::string_view value, Clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::uint64_t seconds = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc() || seconds > 86400) return max_retry_after;
        return milliseconds(seconds * 1000);
    }
    // IMF-fixdate, e.g. "Wed, 25 Nov 2026 13:00:00 GMT" (RFC 9110 10.2.3).
    std::tm tm{};
    const std::string text(value);
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    auto at = Clock::from_time_t(::timegm(&tm));
    if (at <= now) return milliseconds(0);
    return std::min(std::chrono::duration_cast<milliseconds>(at - now), max_retry_after);
}

store::Attempt decide(const Verdict& v, const Result& result, const store::Queued& row,
                      const config::Recipient::Retry& retry, Clock::time_point now, std::uint64_t random,
                      std::size_t max_response) {
    store::Attempt a;
    a.status = result.ok() ? result.status : 0;
    if (v.kind == Verdict::Kind::delivered) {
        a.result = store::Attempt::Result::delivered;
        return a;
    }
    a.error = v.reason;
    a.response = result.body.substr(0, max_response);
    if (v.kind == Verdict::Kind::dead) {
        a.result = store::Attempt::Result::dead;
        return a;
    }
    const auto created = store::from_instant(row.age_from.empty() ? row.created_at : row.age_from);
    if (retry.max_age_hours > 0 && created && now - *created > std::chrono::hours(retry.max_age_hours)) {
        a.result = store::Attempt::Result::dead;
        a.error = "gave up after " + std::to_string(retry.max_age_hours) + " hours (retry.max_age_hours); last: " + v.reason;
        return a;
    }
    a.result = store::Attempt::Result::retry;
    auto delay = backoff(static_cast<std::uint64_t>(row.attempts) + 1, std::chrono::seconds(retry.initial_delay_seconds),
                         std::chrono::seconds(retry.max_delay_seconds), random);
    if (v.retry_after) delay = std::max(delay, *v.retry_after);
    a.next_attempt_ms = std::chrono::duration_cast<milliseconds>((now + delay).time_since_epoch()).count();
    return a;
}

milliseconds backoff(std::uint64_t attempt, milliseconds initial, milliseconds max, std::uint64_t random) {
    std::uint64_t cap = static_cast<std::uint64_t>(std::max<std::int64_t>(initial.count(), 0));
    for (std::uint64_t i = 1; i < attempt && cap > 0 && cap < static_cast<std::uint64_t>(max.count()); ++i) cap *= 2;
    cap = std::min<std::uint64_t>(cap, static_cast<std::uint64_t>(std::max<std::int64_t>(max.count(), 0)));
    return milliseconds(static_cast<std::int64_t>(random % (cap + 1)));
}

Circuit::Circuit(unsigned threshold, milliseconds initial_wait, milliseconds max_wait)
    : threshold_(std::max(1u, threshold)), initial_(initial_wait), max_(std::max(max_wait, initial_wait)), wait_(initial_wait) {}

bool Circuit::allow(Clock::time_point now) {
    if (state_ == State::closed) return true;
    if (state_ == State::open) {
        if (now < reopen_at_) return false;
        state_ = State::half_open;
        probing_ = false;
    }
    if (probing_) return false;
    probing_ = true;
    return true;
}

void Circuit::success() {
    state_ = State::closed;
    faults_ = 0;
    probing_ = false;
    wait_ = initial_;
}

void Circuit::fault(Clock::time_point now) {
    ++faults_;
    if (state_ == State::half_open) {
        wait_ = std::min(max_, wait_ * 2);
    } else if (state_ == State::open || faults_ < threshold_) {
        return;  // already open (a request sent before it opened), or not yet enough
    }
    state_ = State::open;
    probing_ = false;
    reopen_at_ = now + wait_;
}

std::string_view to_string(Circuit::State s) {
    switch (s) {
        case Circuit::State::closed: return "closed";
        case Circuit::State::open: return "open";
        case Circuit::State::half_open: return "half-open";
    }
    return "closed";
}

}  // namespace helsebro::delivery
