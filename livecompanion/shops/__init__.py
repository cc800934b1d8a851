"""Orders from the shops Chinese live sellers sell in: 抖店, 微信小店 / 視頻號小店, 有贊, and a generic
signed webhook for any other shop. Pure: verification, decryption and mapping to contract
`order` events; `livecompanion.api.shop_webhooks` serves them. See docs/bridges.md ("Shops").
"""
