"""Certificate numbers (继续教育证书管理号, R5): ranges allocated by the HRSS and numbers drawn from them."""
