# Tallies the parity table of docs/compatibility.md from one source's two outputs.
import re,sys,collections
def parse_ours(p):
    objs=collections.OrderedDict(); cur=None
    for l in open(p):
        l=l.rstrip('\n')
        if l.startswith('== '): cur=l[3:]; objs[cur]={'readfail':False,'progs':{}}; continue
        if l.startswith('READFAIL'): objs[cur]['readfail']=True; continue
        if l.startswith('INTERPFAIL'): continue
        m=re.match(r'(\S+) \[(\w+)\] load=(.*) ours=(\S+(?: \S+)?) run\.kernel=(\S+) run\.interp=(\S+)$',l)
        if not m: continue
        name,typ,load,ours,rk,ri=m.groups()
        objs[cur]['progs'][name]=dict(type=typ,load=load,ours=ours,rk=rk,ri=ri)
    return objs
def parse_lib(p):
    objs={}; cur=None
    for l in open(p):
        l=l.rstrip('\n')
        if l.startswith('== '): cur=l[3:]; objs[cur]={'open':True,'progs':{}}; continue
        if l.startswith('OPENFAIL'): objs[cur]['open']=False; continue
        parts=l.split()
        if len(parts)==3 and parts[1] in('OK','FAIL'): objs[cur]['progs'][parts[0]]=parts[1]=='OK'
    return objs
# Usage: python3 tools/parity/tally.py OURS.txt LIBBPF.txt (the outputs of tools/parity and libbpf-oracle.c; docs/compatibility.md)
src=sys.argv[1]
o=parse_ours(sys.argv[1]); L=parse_lib(sys.argv[2])
nobj=len(o); read=sum(1 for v in o.values() if not v['readfail']); libopen=sum(1 for v in L.values() if v['open'])
nprog=sum(len(v['progs']) for v in o.values())
ours_loaded=sum(1 for v in o.values() for p in v['progs'].values() if p['load']=='OK')
lib_loaded=sum(1 for v in L.values() for ok in v['progs'].values() if ok)
missing=[(f,n) for f,v in L.items() for n,ok in v['progs'].items() if ok and not (f in o and n in o[f]['progs'] and o[f]['progs'][n]['load']=='OK')]
agree=fa=fr=nm=verdicts=0; fas=[];frs=[];nms=[]
for f,v in o.items():
    for n,p in v['progs'].items():
        if p['load']=='OK': k='accept'
        elif 'rejected by the kernel verifier' in p['load']: k='reject'
        else: continue
        verdicts+=1
        ours=p['ours']
        if ours.startswith('notmodelled'): nm+=1; nms.append(f'{f}:{n}')
        elif ours==k: agree+=1
        elif ours=='accept': fa+=1; fas.append(f'{f}:{n}')
        else: fr+=1; frs.append(f'{f}:{n} ({ours})')
both=same=0; diffs=[]; onlyk=onlyi=0
for f,v in o.items():
    for n,p in v['progs'].items():
        k=p['rk'].startswith('ret:'); i=p['ri'].startswith('ret:')
        if k and i:
            both+=1
            if p['rk']==p['ri']: same+=1
            else: diffs.append(f'{f}:{n} {p["rk"]} vs {p["ri"]}')
        elif k: onlyk+=1
        elif i: onlyi+=1
print(f'{src}: objects {nobj}, read {read}, libbpf opens {libopen}; programs {nprog}; loaded ours {ours_loaded} libbpf {lib_loaded}; libbpf-not-ours {len(missing)} {missing}')
print(f'  verdicts {verdicts}: agree {agree}, false accept {fa} {fas}, false reject {fr} {frs}, not modelled {nm}')
print(f'  run both {both}, identical {same}, diffs {diffs}; kernel only {onlyk}, interp only {onlyi}')
print(f'  notmodelled: {nms}')
