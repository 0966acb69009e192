"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, ErrorCode


class AdminErrorCode(ErrorCode):
    """管理操作的错误代码 / error codes of administration mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    OUT_OF_SCOPE = ("超出您的管辖范围", "outside your jurisdiction")
    ESCALATION = ("不能授予与您同级或更高的管理权限", "you cannot delegate a role you may not delegate")
    SELF_GRANT = ("不能为自己授权或撤销自己的授权", "you cannot grant or revoke your own roles")
    LEVEL_MISMATCH = ("该角色不能在这一级辖区授予", "this role cannot be held at that jurisdiction's level")
    DUPLICATE = ("已存在", "already exists")
    DUPLICATE_USERNAME = ("用户名已存在", "username taken")
    ALREADY_REVOKED = ("已撤销", "already revoked")
    INVALID_EXPIRY = ("到期时间无效", "expiry not in the future")
    INVALID_USERNAME = ("用户名格式不对", "bad username")
    PASSWORD_TOO_SHORT = ("密码太短", "password too short")
    SERVICE_NO_PASSWORD = ("服务账号无密码", "no password")
    NOT_A_SERVICE_ACCOUNT = ("只能为服务账号签发令牌", "tokens are for service accounts only")
    OUT_OF_RANGE = ("超出允许范围", "out of the allowed range")
