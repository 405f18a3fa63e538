//! The fault-proof workloads as differential programs: ETH transfers, OpenZeppelin ERC-20
//! transfers (`TestToken`), a Uniswap-v2-style router→pair swap (`WorkloadRouter`,
//! `WorkloadPair`), an ERC-1967 proxy (`WorkloadProxy` in front of `WorkloadCounter`), and
//! the deployment of each (creation transactions, and `CREATE` by `WorkloadFactory`).
//!
//! What it is: [`Workloads::new`] builds the pre-state by running the committed artifacts
//! in an in-memory revm (Osaka): creation transactions of every contract, a pair created by
//! the factory, liquidity minted, tokens minted to [`USERS`], approvals to the router and to
//! [`SPENDER`], the proxy initialized by its constructor; then it reads every account back
//! (nonce, balance, code, storage). [`Workloads::program`] turns one [`Workload`] into a
//! `protocol::fault::coverage::Program` over that pre-state: the called contract's code and
//! storage, every other account as a `PreAccount`, a caller from [`USERS`] (or [`SPENDER`]),
//! and amounts, recipients and variants drawn from the caller's `Rng`, so each draw differs:
//! successes and reverts (insufficient balance or allowance, slippage, expired deadline,
//! invalid receiver, an existing pair, an uninitialized proxy, an overflow) and, one draw in
//! [`OUT_OF_GAS_ONE_IN`], the same transaction with less frame gas than revm used.
//!
//! What it is not: no precompile is reached on any path (no permit, no signatures); the
//! programs are independent transactions from the same pre-state, not a chain of blocks;
//! the caller of every program is the differential's funded sender (balance `U256::MAX`,
//! nonce 0), so its own account is not the one the setup left; nothing here compares
//! anything (`protocol::fault::differential::run` does, `blink osp-coverage` and the
//! `workloads` integration test drive it).

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, Bytes, U256, address},
    sol_types::{SolCall, SolConstructor},
};
use protocol::fault::{
    coverage::{Environment, PreAccount, Program, Rng},
    differential,
};
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::{
        CfgEnv, TxEnv,
        result::{ExecutionResult, Output},
    },
    database::{CacheDB, EmptyDB},
    primitives::{TxKind, hardfork::SpecId},
};

use crate::{
    TestToken, WorkloadCounter, WorkloadFactory, WorkloadPair, WorkloadProxy, WorkloadRouter,
};

/// Who deploys the workload contracts in the setup.
pub const DEPLOYER: Address = address!("0x00000000000000000000000000000000000d3e92");
/// Token holders: the first two hold both tokens and approved the router (and
/// [`SPENDER`]: the first a finite allowance, the second an unlimited one); the third holds
/// nothing. The first owns the proxied counter.
pub const USERS: [Address; 3] = [
    address!("0x00000000000000000000000000000000000a11ce"),
    address!("0x00000000000000000000000000000000000b0b00"),
    address!("0x0000000000000000000000000000000000000ca7"),
];
/// Spends the holders' tokens with `transferFrom`.
pub const SPENDER: Address = address!("0x000000000000000000000000000000000005be4d");
/// An EOA with a balance (a recipient of ETH transfers and tokens).
pub const RICH: Address = address!("0x00000000000000000000000000000000000f1c40");

/// One draw in this many runs with less frame gas than the transaction needs.
pub const OUT_OF_GAS_ONE_IN: u64 = 6;
/// Frame gas of a call workload (far above what any of them uses).
pub const CALL_GAS: u64 = 600_000;
/// Frame gas of a deployment (the factory's creation code holds the pair's).
pub const CREATE_GAS: u64 = 4_000_000;

/// Tokens of each kind minted to each of the first two [`USERS`] (their index + 1 times).
const USER_TOKENS: u128 = 1_000 * 10u128.pow(18);
/// The pair's initial reserves of token A and token B.
const LIQUIDITY: (u128, u128) = (1_000_000 * 10u128.pow(18), 2_000_000 * 10u128.pow(18));
/// The first user's finite allowance to [`SPENDER`].
const SPENDER_ALLOWANCE: u128 = 500 * 10u128.pow(18);

/// One kind of workload transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// An ETH transfer from the caller to an EOA (fresh, funded or a user).
    EthTransfer,
    /// `TestToken.transfer` of a random amount (above the balance: reverts).
    Erc20Transfer,
    /// `TestToken.transferFrom` by [`SPENDER`] (above the allowance or balance: reverts).
    Erc20TransferFrom,
    /// `TestToken.approve`.
    Erc20Approve,
    /// `WorkloadRouter.swapExactTokensForTokens`: router → factory → pair → tokens.
    Swap,
    /// A call through the ERC-1967 proxy to `WorkloadCounter` (`increment`, `reset`,
    /// `echo` of long calldata, `count`).
    Proxy,
    /// A creation transaction of `TestToken` with constructor arguments.
    DeployToken,
    /// A creation transaction of `WorkloadPair`.
    DeployPair,
    /// A creation transaction of `WorkloadFactory` (its code holds the pair's).
    DeployFactory,
    /// A creation transaction of `WorkloadRouter`.
    DeployRouter,
    /// A creation transaction of `WorkloadCounter`.
    DeployCounter,
    /// A creation transaction of `WorkloadProxy`, initializing through `DELEGATECALL`.
    DeployProxy,
    /// `WorkloadFactory.createPair`: a pair deployed by `CREATE`.
    CreatePair,
}

impl Workload {
    /// Every workload, in the order the tables list them.
    pub const ALL: [Workload; 13] = [
        Workload::EthTransfer,
        Workload::Erc20Transfer,
        Workload::Erc20TransferFrom,
        Workload::Erc20Approve,
        Workload::Swap,
        Workload::Proxy,
        Workload::DeployToken,
        Workload::DeployPair,
        Workload::DeployFactory,
        Workload::DeployRouter,
        Workload::DeployCounter,
        Workload::DeployProxy,
        Workload::CreatePair,
    ];

    /// Its name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Workload::EthTransfer => "workload eth transfer",
            Workload::Erc20Transfer => "workload erc20 transfer",
            Workload::Erc20TransferFrom => "workload erc20 transferFrom",
            Workload::Erc20Approve => "workload erc20 approve",
            Workload::Swap => "workload router swap",
            Workload::Proxy => "workload erc1967 proxy call",
            Workload::DeployToken => "workload deploy erc20",
            Workload::DeployPair => "workload deploy pair",
            Workload::DeployFactory => "workload deploy factory",
            Workload::DeployRouter => "workload deploy router",
            Workload::DeployCounter => "workload deploy implementation",
            Workload::DeployProxy => "workload deploy erc1967 proxy",
            Workload::CreatePair => "workload factory CREATE pair",
        }
    }
}

/// Why the setup failed (the committed artifacts did not deploy or a setup call reverted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workload setup, {what}: {detail}")]
pub struct WorkloadError {
    /// The setup transaction.
    pub what: String,
    /// What revm said.
    pub detail: String,
}

/// The workloads' pre-state and the addresses in it.
#[derive(Debug, Clone)]
pub struct Workloads {
    /// Every account the setup left (contracts with code and storage, EOAs with nonces).
    pub accounts: Vec<PreAccount>,
    /// The two tokens (`TestToken`): A and B.
    pub tokens: [Address; 2],
    /// The factory.
    pub factory: Address,
    /// The pair of A and B.
    pub pair: Address,
    /// The router.
    pub router: Address,
    /// The implementation behind the proxy.
    pub counter: Address,
    /// The proxy.
    pub proxy: Address,
}

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>>;

struct Setup {
    evm: Evm,
    nonces: BTreeMap<Address, u64>,
}

impl Setup {
    fn tx(
        &mut self,
        what: &str,
        from: Address,
        kind: TxKind,
        data: Vec<u8>,
    ) -> Result<Output, WorkloadError> {
        let err = |detail: String| WorkloadError {
            what: what.to_string(),
            detail,
        };
        let nonce = self.nonces.entry(from).or_default();
        let tx = TxEnv::builder()
            .caller(from)
            .nonce(*nonce)
            .kind(kind)
            .data(data.into())
            .gas_limit(10_000_000)
            .build()
            .map_err(|e| err(format!("tx env: {e:?}")))?;
        *nonce += 1;
        match self
            .evm
            .transact_commit(tx)
            .map_err(|e| err(format!("{e:?}")))?
        {
            ExecutionResult::Success { output, .. } => Ok(output),
            other => Err(err(format!("{other:?}"))),
        }
    }

    fn deploy(&mut self, what: &str, init: Vec<u8>) -> Result<Address, WorkloadError> {
        match self.tx(what, DEPLOYER, TxKind::Create, init)? {
            Output::Create(_, Some(a)) => Ok(a),
            other => Err(WorkloadError {
                what: what.to_string(),
                detail: format!("no address: {other:?}"),
            }),
        }
    }

    fn call(
        &mut self,
        what: &str,
        from: Address,
        to: Address,
        data: Vec<u8>,
    ) -> Result<Bytes, WorkloadError> {
        match self.tx(what, from, TxKind::Call(to), data)? {
            Output::Call(b) => Ok(b),
            Output::Create(b, _) => Ok(b),
        }
    }
}

/// `code` followed by its ABI-encoded constructor arguments.
fn with_args(code: &[u8], args: Vec<u8>) -> Vec<u8> {
    let mut init = code.to_vec();
    init.extend_from_slice(&args);
    init
}

fn token_init(name: &str, symbol: &str, supply: U256) -> Vec<u8> {
    with_args(
        &TestToken::BYTECODE,
        TestToken::constructorCall {
            name_: name.to_string(),
            symbol_: symbol.to_string(),
            initialSupply: supply,
        }
        .abi_encode(),
    )
}

fn proxy_init(implementation: Address, data: Vec<u8>) -> Vec<u8> {
    with_args(
        &WorkloadProxy::BYTECODE,
        WorkloadProxy::constructorCall {
            implementation,
            data: data.into(),
        }
        .abi_encode(),
    )
}

fn initialize(owner: Address, start: U256) -> Vec<u8> {
    WorkloadCounter::initializeCall {
        owner_: owner,
        start,
    }
    .abi_encode()
}

/// A uniform-enough value in `0..n` (0 when `n` is 0).
fn below(rng: &mut Rng, n: U256) -> U256 {
    if n.is_zero() {
        U256::ZERO
    } else {
        rng.word() % n
    }
}

impl Workloads {
    /// Deploys and sets up every workload contract in revm and reads the state back.
    pub fn new() -> Result<Self, WorkloadError> {
        let cfg = CfgEnv::new_with_spec(SpecId::OSAKA);
        let evm = Context::mainnet()
            .with_db(CacheDB::new(EmptyDB::default()))
            .with_cfg(cfg)
            .build_mainnet();
        let mut s = Setup {
            evm,
            nonces: BTreeMap::new(),
        };
        let supply = U256::from(10u128.pow(30));
        let token_a = s.deploy("token A", token_init("Token A", "TKA", supply))?;
        let token_b = s.deploy("token B", token_init("Token B", "TKB", supply))?;
        let factory = s.deploy("factory", WorkloadFactory::BYTECODE.to_vec())?;
        let router = s.deploy(
            "router",
            with_args(
                &WorkloadRouter::BYTECODE,
                WorkloadRouter::constructorCall { factory_: factory }.abi_encode(),
            ),
        )?;
        let counter = s.deploy("counter", WorkloadCounter::BYTECODE.to_vec())?;
        let proxy = s.deploy(
            "proxy",
            proxy_init(counter, initialize(USERS[0], U256::from(7))),
        )?;
        let out = s.call(
            "createPair",
            DEPLOYER,
            factory,
            WorkloadFactory::createPairCall {
                tokenA: token_a,
                tokenB: token_b,
            }
            .abi_encode(),
        )?;
        let pair = out
            .get(12..32)
            .map(Address::from_slice)
            .ok_or_else(|| WorkloadError {
                what: "createPair".into(),
                detail: format!("output {out}"),
            })?;
        for (token, amount) in [(token_a, LIQUIDITY.0), (token_b, LIQUIDITY.1)] {
            s.call(
                "liquidity transfer",
                DEPLOYER,
                token,
                TestToken::transferCall {
                    to: pair,
                    value: U256::from(amount),
                }
                .abi_encode(),
            )?;
        }
        s.call(
            "mint liquidity",
            DEPLOYER,
            pair,
            WorkloadPair::mintCall { to: DEPLOYER }.abi_encode(),
        )?;
        for (i, user) in USERS.iter().take(2).enumerate() {
            for token in [token_a, token_b] {
                s.call(
                    "mint",
                    DEPLOYER,
                    token,
                    TestToken::mintCall {
                        to: *user,
                        amount: U256::from(USER_TOKENS * (i as u128 + 1)),
                    }
                    .abi_encode(),
                )?;
                s.call(
                    "approve router",
                    *user,
                    token,
                    TestToken::approveCall {
                        spender: router,
                        value: U256::MAX,
                    }
                    .abi_encode(),
                )?;
                let allowance = if i == 0 {
                    U256::from(SPENDER_ALLOWANCE)
                } else {
                    U256::MAX
                };
                s.call(
                    "approve spender",
                    *user,
                    token,
                    TestToken::approveCall {
                        spender: SPENDER,
                        value: allowance,
                    }
                    .abi_encode(),
                )?;
            }
            s.call(
                "increment",
                *user,
                proxy,
                WorkloadCounter::incrementCall {
                    by: U256::from(3 + i),
                }
                .abi_encode(),
            )?;
        }
        let mut accounts: Vec<PreAccount> = s
            .evm
            .ctx
            .journaled_state
            .database
            .cache
            .accounts
            .iter()
            .map(|(address, a)| {
                let mut storage: Vec<(U256, U256)> = a
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect();
                storage.sort();
                PreAccount {
                    address: *address,
                    nonce: a.info.nonce,
                    balance: a.info.balance,
                    code: a
                        .info
                        .code
                        .as_ref()
                        .map(|c| c.original_bytes().to_vec())
                        .unwrap_or_default(),
                    storage,
                }
            })
            .filter(|a| {
                a.nonce != 0 || !a.balance.is_zero() || !a.code.is_empty() || !a.storage.is_empty()
            })
            .collect();
        accounts.push(PreAccount {
            address: RICH,
            nonce: 5,
            balance: U256::from(10u128.pow(21)),
            code: Vec::new(),
            storage: Vec::new(),
        });
        accounts.sort_by_key(|a| a.address);
        Ok(Self {
            accounts,
            tokens: [token_a, token_b],
            factory,
            pair,
            router,
            counter,
            proxy,
        })
    }

    fn account(&self, a: Address) -> Option<&PreAccount> {
        self.accounts.iter().find(|x| x.address == a)
    }

    /// A call of `target` by `caller` with `calldata`: its code and storage from the
    /// pre-state, every other account but the caller's as a `PreAccount`.
    fn call(&self, caller: Address, target: Address, calldata: Vec<u8>, value: U256) -> Program {
        let (code, storage) = self
            .account(target)
            .map(|a| (a.code.clone(), a.storage.clone()))
            .unwrap_or_default();
        Program::new(code)
            .calldata(calldata)
            .storage(storage)
            .gas(CALL_GAS)
            .accounts(self.others(&[caller, target]))
            .env(Environment {
                value,
                caller,
                target,
                ..Environment::default()
            })
    }

    /// A creation transaction of `init` by `caller` (a user: its nonce-0 address is free).
    fn create(&self, caller: Address, init: Vec<u8>) -> Program {
        Program::new(init)
            .gas(CREATE_GAS)
            .accounts(self.others(&[caller]))
            .env(Environment {
                value: U256::ZERO,
                caller,
                ..Environment::default()
            })
            .create_tx()
    }

    fn others(&self, except: &[Address]) -> Vec<PreAccount> {
        self.accounts
            .iter()
            .filter(|a| !except.contains(&a.address))
            .cloned()
            .collect()
    }

    /// The tokens a user holds of each token after the setup.
    fn holding(user: Address) -> U256 {
        match USERS.iter().position(|u| *u == user) {
            Some(i @ 0..=1) => U256::from(USER_TOKENS * (i as u128 + 1)),
            _ => U256::ZERO,
        }
    }

    /// A recipient: a fresh address, a user, the funded EOA, the pair, or (rarely) zero.
    fn recipient(&self, rng: &mut Rng) -> Address {
        match rng.below(8) {
            0..=2 => Address::from_slice(&rng.bytes(20)),
            3 => USERS[0],
            4 => USERS[2],
            5 => RICH,
            6 => self.pair,
            _ => {
                if rng.below(3) == 0 {
                    Address::ZERO
                } else {
                    USERS[1]
                }
            }
        }
    }

    /// An amount against `balance`: zero, all of it, or random up to a quarter above it.
    fn amount(rng: &mut Rng, balance: U256) -> U256 {
        match rng.below(8) {
            0 => U256::ZERO,
            1 => balance,
            2 => balance + U256::from(1),
            _ => below(rng, balance + balance / U256::from(4) + U256::from(2)),
        }
    }

    /// The program of one draw of `w`: random amounts, recipients and variants from `rng`,
    /// and one time in [`OUT_OF_GAS_ONE_IN`] less frame gas than revm used.
    pub fn program(&self, w: Workload, rng: &mut Rng) -> Program {
        let p = self.draw(w, rng);
        if rng.below(OUT_OF_GAS_ONE_IN) != 0 {
            return p;
        }
        match differential::run_revm(&p) {
            Ok(run) => {
                let used = p.frame_gas.saturating_sub(run.outcome.2);
                let gas = rng.below(used.max(1));
                p.gas(gas)
            }
            // The full program still runs (and reports revm's failure itself).
            Err(_) => p,
        }
    }

    fn draw(&self, w: Workload, rng: &mut Rng) -> Program {
        let user = USERS[rng.below(3) as usize];
        let token = self.tokens[rng.below(2) as usize];
        match w {
            Workload::EthTransfer => {
                let to = match rng.below(3) {
                    0 => RICH,
                    1 => USERS[rng.below(3) as usize],
                    _ => Address::from_slice(&rng.bytes(20)),
                };
                let to = if to == user { RICH } else { to };
                let value = match rng.below(4) {
                    0 => U256::ZERO,
                    _ => below(rng, U256::from(10u128.pow(20))),
                };
                let mut p = self.call(user, to, Vec::new(), value);
                p.frame_gas = 0;
                p
            }
            Workload::Erc20Transfer => {
                let amount = Self::amount(rng, Self::holding(user));
                let to = self.recipient(rng);
                self.call(
                    user,
                    token,
                    TestToken::transferCall { to, value: amount }.abi_encode(),
                    U256::ZERO,
                )
            }
            Workload::Erc20TransferFrom => {
                let from = USERS[rng.below(3) as usize];
                let limit = if from == USERS[0] {
                    U256::from(SPENDER_ALLOWANCE)
                } else {
                    Self::holding(from)
                };
                let amount = Self::amount(rng, limit);
                let to = self.recipient(rng);
                self.call(
                    SPENDER,
                    token,
                    TestToken::transferFromCall {
                        from,
                        to,
                        value: amount,
                    }
                    .abi_encode(),
                    U256::ZERO,
                )
            }
            Workload::Erc20Approve => {
                let spender = self.recipient(rng);
                let value = match rng.below(3) {
                    0 => U256::MAX,
                    _ => rng.word() >> (rng.below(256) as usize),
                };
                self.call(
                    user,
                    token,
                    TestToken::approveCall { spender, value }.abi_encode(),
                    U256::ZERO,
                )
            }
            Workload::Swap => self.swap(user, rng),
            Workload::Proxy => {
                let data = match rng.below(6) {
                    0 => WorkloadCounter::resetCall {}.abi_encode(),
                    1 => WorkloadCounter::countCall {}.abi_encode(),
                    2 => {
                        let n = rng.below(600) as usize;
                        WorkloadCounter::echoCall {
                            data: rng.bytes(n).into(),
                        }
                        .abi_encode()
                    }
                    _ => {
                        let by = match rng.below(6) {
                            0 => U256::ZERO,
                            1 => U256::MAX,
                            _ => U256::from(rng.below(1 << 40)),
                        };
                        WorkloadCounter::incrementCall { by }.abi_encode()
                    }
                };
                self.call(user, self.proxy, data, U256::ZERO)
            }
            Workload::DeployToken => {
                let name: String = (0..rng.below(40))
                    .map(|_| char::from(b'a' + (rng.below(26) as u8)))
                    .collect();
                let supply = rng.word() >> (rng.below(256) as usize);
                self.create(user, token_init(&name, "WL", supply))
            }
            Workload::DeployPair => {
                let (a, b) = (
                    Address::from_slice(&rng.bytes(20)),
                    Address::from_slice(&rng.bytes(20)),
                );
                self.create(
                    user,
                    with_args(
                        &WorkloadPair::BYTECODE,
                        WorkloadPair::constructorCall {
                            token0_: a.min(b),
                            token1_: a.max(b),
                        }
                        .abi_encode(),
                    ),
                )
            }
            Workload::DeployFactory => self.create(user, WorkloadFactory::BYTECODE.to_vec()),
            Workload::DeployRouter => self.create(
                user,
                with_args(
                    &WorkloadRouter::BYTECODE,
                    WorkloadRouter::constructorCall {
                        factory_: self.factory,
                    }
                    .abi_encode(),
                ),
            ),
            Workload::DeployCounter => self.create(user, WorkloadCounter::BYTECODE.to_vec()),
            Workload::DeployProxy => {
                let implementation = match rng.below(6) {
                    // Not a contract: `ERC1967InvalidImplementation`.
                    0 => RICH,
                    _ => self.counter,
                };
                let data = match rng.below(6) {
                    // Empty: `ERC1967ProxyUninitialized`.
                    0 => Vec::new(),
                    _ => initialize(
                        Address::from_slice(&rng.bytes(20)),
                        U256::from(rng.below(1 << 40)),
                    ),
                };
                self.create(user, proxy_init(implementation, data))
            }
            Workload::CreatePair => {
                let (a, b) = match rng.below(5) {
                    // Exists already: `PairExists`.
                    0 => (self.tokens[1], self.tokens[0]),
                    // `IdenticalAddresses`.
                    1 => (token, token),
                    _ => (
                        Address::from_slice(&rng.bytes(20)),
                        Address::from_slice(&rng.bytes(20)),
                    ),
                };
                self.call(
                    user,
                    self.factory,
                    WorkloadFactory::createPairCall {
                        tokenA: a,
                        tokenB: b,
                    }
                    .abi_encode(),
                    U256::ZERO,
                )
            }
        }
    }

    /// A swap of one token for the other through the router: the exact output as the
    /// minimum, none, or one more than the reserves give (slippage); a deadline passed one
    /// time in eight; recipients as for transfers (a token: the pair's `InvalidTo`).
    fn swap(&self, user: Address, rng: &mut Rng) -> Program {
        let forward = rng.below(2) == 0;
        let (token_in, token_out) = if forward {
            (self.tokens[0], self.tokens[1])
        } else {
            (self.tokens[1], self.tokens[0])
        };
        let (reserve_in, reserve_out) = if forward {
            (U256::from(LIQUIDITY.0), U256::from(LIQUIDITY.1))
        } else {
            (U256::from(LIQUIDITY.1), U256::from(LIQUIDITY.0))
        };
        let amount_in = Self::amount(rng, Self::holding(user));
        let with_fee = amount_in * U256::from(997);
        let out = with_fee * reserve_out / (reserve_in * U256::from(1000) + with_fee);
        let min = match rng.below(4) {
            0 => U256::ZERO,
            1 => out + U256::from(1),
            _ => out,
        };
        let env = Environment::default();
        let deadline = if rng.below(8) == 0 {
            U256::from(env.timestamp - 1)
        } else {
            U256::from(env.timestamp + 600)
        };
        let to = match rng.below(10) {
            0 => token_out,
            _ => self.recipient(rng),
        };
        self.call(
            user,
            self.router,
            WorkloadRouter::swapExactTokensForTokensCall {
                amountIn: amount_in,
                amountOutMin: min,
                path: vec![token_in, token_out],
                to,
                deadline,
            }
            .abi_encode(),
            U256::ZERO,
        )
    }
}
