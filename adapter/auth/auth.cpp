#include "adapter/auth/auth.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace helsebro::auth {

Digest sha256(std::string_view data) {
    Digest d{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
    return d;
}

std::string to_hex(const Digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(d.size() * 2);
    for (unsigned char c : d) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
    }
    return out;
}

Authenticator::Authenticator(std::vector<config::Client> clients) : clients_(std::move(clients)) {}

std::optional<std::string> Authenticator::authenticate(std::string_view authorization) const {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return std::nullopt;
    auto token = authorization.substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty()) return std::nullopt;

    Digest presented = sha256(token);
    const config::Client* match = nullptr;
    for (const auto& c : clients_) {
        // No early exit: every hash is compared whatever matched before.
        bool equal = CRYPTO_memcmp(presented.data(), c.token_sha256.data(), presented.size()) == 0;
        if (equal && !match) match = &c;
    }
    if (!match) return std::nullopt;
    return match->id;
}

namespace {

std::string random_token() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the demo token");
    // base64url without padding: safe in a shell, a header and a file.
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned bits = 0, acc = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3f];
    return out;
}

std::string read_token(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    if (t.empty()) throw std::runtime_error(path + " is empty; delete it to get a new demo token");
    return t;
}

}  // namespace

DemoClient ensure_demo_client(const std::string& data_dir) {
    DemoClient demo;
    demo.client.id = "demo";
    std::filesystem::create_directories(data_dir);
    demo.token_path = (std::filesystem::path(data_dir) / "demo-client.token").string();

    // O_EXCL: two daemons starting at once on one data dir must not overwrite each other's token.
    int fd = ::open(demo.token_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        std::string token = random_token() + "\n";
        bool ok = ::write(fd, token.data(), token.size()) == static_cast<ssize_t>(token.size());
        ok = ::fsync(fd) == 0 && ok;
        ::close(fd);
        if (!ok) throw std::runtime_error("cannot write " + demo.token_path + ": " + std::strerror(errno));
        demo.created = true;
    } else if (errno != EEXIST) {
        throw std::runtime_error("cannot create " + demo.token_path + ": " + std::strerror(errno));
    }
    demo.client.token_sha256 = sha256(read_token(demo.token_path));
    return demo;
}

}  // namespace helsebro::auth
