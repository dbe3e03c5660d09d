#include "adapter/config/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace helsebro::config::detail {

int human_line(const YAML::Mark& mark) {
    return mark.line < 0 ? 0 : mark.line + 1;
}

int human_column(const YAML::Mark& mark) {
    return mark.column < 0 ? 0 : mark.column + 1;
}

void Diagnostics::error(const YAML::Mark& at, std::string message, std::string hint) {
    errors_.push_back(
        LoadError{file_, human_line(at), human_column(at), std::move(message), std::move(hint)});
}

void Diagnostics::error(std::string message, std::string hint) {
    errors_.push_back(LoadError{file_, 0, 0, std::move(message), std::move(hint)});
}

std::vector<LoadError> Diagnostics::take() {
    // Placeless errors go last: they are about the file as a whole.
    auto order = [](const LoadError& e) { return std::tuple(e.line == 0, e.line, e.column); };
    std::stable_sort(errors_.begin(), errors_.end(),
                     [&](const LoadError& a, const LoadError& b) { return order(a) < order(b); });
    return std::move(errors_);
}

}  // namespace helsebro::config::detail
