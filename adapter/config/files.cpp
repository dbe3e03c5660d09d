#include "adapter/config/files.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>

namespace helsebro::config::detail {

FileText read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
    FileText result;
    // stdio rather than iostreams: POSIX guarantees errno after fopen/fread, so the admin sees
    // "Permission denied" instead of a generic failure.
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) {
        result.error = std::error_code(errno, std::generic_category());
        return result;
    }
    char buffer[4096];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        result.text.append(buffer, n);
        if (result.text.size() > max_bytes) {
            result.too_large = true;
            return result;
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get())) {
        result.error = std::error_code(errno != 0 ? errno : EIO, std::generic_category());
    }
    return result;
}

}  // namespace helsebro::config::detail
